// Command native is the baseline of the load benchmarks: the hello handler
// written directly against net/http, answering exactly what the hello
// guests answer, in an http.Server with the connection timeouts wasmserve
// serves with by default (10 s to read headers, 120 s idle), so that the two
// servers differ only in the handler. With -upstream it is instead the
// baseline of middleware mode: a tuned httputil.ReverseProxy to that origin
// (256 idle connections a host), as a native edge proxy would be.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/http/pprof"
	"net/url"
	"os"
	"strconv"
	"time"
)

// Hello answers "Hello from wasmserve: <uri>\n" as the hello guests do.
func Hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "Hello from wasmserve: "+r.URL.RequestURI()+"\n")
}

func main() {
	addr := flag.String("address", "127.0.0.1", "listen address")
	port := flag.Int("port", 0, "listen port; 0 picks a free one")
	upstream := flag.String("upstream", "", "reverse-proxy every request to this origin instead of answering hello")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:9199), to profile the baseline under load")
	portFile := flag.String("port-file", os.Getenv("WASMSERVE_PORT_FILE"), "write the bound port here (default $WASMSERVE_PORT_FILE)")
	flag.Parse()
	ln, err := net.Listen("tcp", net.JoinHostPort(*addr, strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	if *portFile != "" {
		bound := ln.Addr().(*net.TCPAddr).Port
		if err := os.WriteFile(*portFile, []byte(strconv.Itoa(bound)+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Fprintln(os.Stderr, "native hello listening on", ln.Addr())
	if *pprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		go func() { log.Fatal(http.ListenAndServe(*pprofAddr, mux)) }()
	}
	var handler http.Handler = http.HandlerFunc(Hello)
	if *upstream != "" {
		u, err := url.Parse(*upstream)
		if err != nil {
			log.Fatal(err)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 256
		handler = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		}, Transport: tr}
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Fatal(srv.Serve(ln))
}
