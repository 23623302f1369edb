package host

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
)

// TestUpstreamConnectionReuse: with more requests in flight than net/http's
// default 2 idle connections a host, the proxy keeps its connections to the
// origin instead of dialling one for most requests.
func TestUpstreamConnectionReuse(t *testing.T) {
	cases := []struct {
		name     string
		maxIdle  int
		maxConns int64 // upper bound on connections the origin sees
		minConns int64 // lower bound, to show the case can fail
	}{
		{"default pool", 0, 24, 0},
		{"net/http's 2 idle connections churn", 2, 1 << 30, 25},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var conns atomic.Int64
			up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "origin "+r.URL.Path)
			}))
			up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			up.Start()
			t.Cleanup(up.Close)
			h := newTestHandler(t, readFile(t, "host/testdata/next.wasm"),
				withHTTPWasm(HandlerConfig{Isolates: 8}, httpwasm.Config{Upstream: up.URL, UpstreamMaxIdle: c.maxIdle}))
			base := startPlain(t, h)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 10 * time.Second}
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 100 {
						path := fmt.Sprintf("/w%d/%d", w, i)
						resp, body := do(t, client, mustRequest(t, "GET", base+path, nil))
						if resp.StatusCode != 200 || body != "origin "+path {
							t.Errorf("%s: %d %q", path, resp.StatusCode, body)
							return
						}
					}
				}()
			}
			wg.Wait()
			n := conns.Load()
			if n > c.maxConns || n < c.minConns {
				t.Errorf("the origin saw %d connections for 800 requests, 8 at a time; want %d to %d", n, c.minConns, c.maxConns)
			}
		})
	}
}

// TestUpstreamTimeout: an origin that accepts but never answers costs the
// request the upstream timeout, then 502, and the guest sees is_error.
func TestUpstreamTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // read nothing, answer nothing
		}
	}()
	h := newTestHandler(t, readFile(t, "host/testdata/next.wasm"),
		withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{Upstream: "http://" + ln.Addr().String(), UpstreamTimeout: 200 * time.Millisecond}))
	start := time.Now()
	resp, _ := do(t, http.DefaultClient, mustRequest(t, "GET", startPlain(t, h)+"/", nil))
	took := time.Since(start)
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
	if took < 200*time.Millisecond || took > 5*time.Second {
		t.Errorf("answered after %v, want the 200 ms upstream timeout (and well under 5 s)", took)
	}
}

// TestProxyBuffersAreNotShared: 8 clients at once each send and get back a
// different 200 KiB body through a pass-through guest: the proxy's pooled
// copy buffers (proxyBuffers) never mix one response into another.
func TestProxyBuffersAreNotShared(t *testing.T) {
	up := origin(t)
	h := newTestHandler(t, readFile(t, "host/testdata/next.wasm"), withHTTPWasm(HandlerConfig{Isolates: 8}, httpwasm.Config{Upstream: up.URL}))
	base := startPlain(t, h)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 20 * time.Second}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				want := strings.Repeat(fmt.Sprintf("<%d.%d>", w, i), 200<<10/6)
				resp, body := do(t, client, mustRequest(t, "POST", base+"/", strings.NewReader(want)))
				if resp.StatusCode != http.StatusAccepted || body != want {
					t.Errorf("client %d request %d: %d, %d bytes back, want the %d sent", w, i, resp.StatusCode, len(body), len(want))
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestDefaultIsolatesInMiddlewareMode: --isolates 0 is one isolate per CPU,
// and httpwasm.UpstreamIsolatesPerCPU per CPU with an upstream, where a guest holds
// its isolate while the upstream answers; an explicit count stays as set.
func TestDefaultIsolatesInMiddlewareMode(t *testing.T) {
	up := origin(t)
	next := readFile(t, "host/testdata/next.wasm")
	for _, tc := range []struct {
		name     string
		cfg      HandlerConfig
		isolates int
	}{
		{"no upstream", HandlerConfig{}, runtime.NumCPU()},
		{"upstream", withHTTPWasm(HandlerConfig{}, httpwasm.Config{Upstream: up.URL}), httpwasm.UpstreamIsolatesPerCPU * runtime.NumCPU()},
		{"upstream, explicit", withHTTPWasm(HandlerConfig{Isolates: 3}, httpwasm.Config{Upstream: up.URL}), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newTestHandler(t, next, tc.cfg).Pool().Size(); got != tc.isolates {
				t.Errorf("%d isolates, want %d", got, tc.isolates)
			}
		})
	}
}
