// Command protoload drives one HTTPS server over HTTP/2 (Go's client, over
// TLS) or HTTP/3 (quic-go's client), a bounded number of requests from
// concurrent workers, and prints req/s and latency percentiles: the
// figures of bench/http3.sh, which h2load cannot give for HTTP/3.
//
//	protoload -proto h3 -cacert ca.pem -n 20000 -c 16 -conns 4 https://127.0.0.1:8443/bench
//
// It prints one line: proto, requests, errors, req/s, p50 and p99 in
// microseconds. Every request must answer 200; the run stops at -n
// requests (and at -timeout at the latest).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go/http3"
)

func main() {
	proto := flag.String("proto", "h3", "h2 (HTTP/2 over TLS) or h3 (HTTP/3 over QUIC)")
	caFile := flag.String("cacert", "", "PEM CA that signed the server's certificate")
	serverName := flag.String("servername", "localhost", "name the certificate is checked against")
	n := flag.Int("n", 20000, "requests in all")
	c := flag.Int("c", 16, "concurrent workers")
	conns := flag.Int("conns", 4, "connections (workers share them round robin)")
	timeout := flag.Duration("timeout", 2*time.Minute, "bound on the whole run")
	flag.Parse()
	if flag.NArg() != 1 || *n < 1 || *c < 1 || *conns < 1 {
		log.Fatal("usage: protoload [-proto h2|h3] -cacert CA.pem [-n N] [-c C] [-conns K] URL")
	}
	url := flag.Arg(0)
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		log.Fatalf("%s holds no PEM certificate", *caFile)
	}
	tc := &tls.Config{RootCAs: pool, ServerName: *serverName}
	clients := make([]*http.Client, *conns)
	for i := range clients {
		var rt http.RoundTripper
		switch *proto {
		case "h2":
			rt = &http.Transport{TLSClientConfig: tc.Clone(), ForceAttemptHTTP2: true, MaxConnsPerHost: 1}
		case "h3":
			rt = &http3.Transport{TLSClientConfig: tc.Clone()}
		default:
			log.Fatalf("-proto %q is not h2 or h3", *proto)
		}
		clients[i] = &http.Client{Transport: rt, Timeout: 30 * time.Second}
	}
	// Warm-up: each connection's handshake, outside the figures.
	for _, cl := range clients {
		if err := fetch(context.Background(), cl, url, *proto); err != nil {
			log.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var next, errs atomic.Int64
	lat := make([][]time.Duration, *c)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range *c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := clients[w%len(clients)]
			for next.Add(1) <= int64(*n) && ctx.Err() == nil {
				t0 := time.Now()
				if err := fetch(ctx, cl, url, *proto); err != nil {
					errs.Add(1)
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) int64 {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()
	}
	fmt.Printf("%s requests=%d errors=%d rps=%.0f p50_us=%d p99_us=%d\n",
		*proto, len(all), errs.Load(), float64(len(all))/elapsed.Seconds(), pct(0.50), pct(0.99))
	if errs.Load() > 0 {
		os.Exit(1)
	}
}

// fetch GETs url, reads the body and wants a 200 over the protocol asked.
func fetch(ctx context.Context, cl *http.Client, url, proto string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	want := map[string]int{"h2": 2, "h3": 3}[proto]
	if resp.StatusCode != 200 || resp.ProtoMajor != want {
		return fmt.Errorf("%s %s, want 200 over %s", resp.Proto, resp.Status, proto)
	}
	return nil
}
