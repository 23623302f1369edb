package host

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/http-wasm/http-wasm-host-go/tck"

	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// newTestHandler builds a Handler for wasm with cfg, filling in the test
// cache and a discarding logger unless cfg has one.
func newTestHandler(t *testing.T, wasm []byte, cfg HandlerConfig) *Handler {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = testguest.CacheDir(t)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h, err := NewHandler(context.Background(), wasm, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// startPlain serves h with wasmserve's own server on 127.0.0.1, HTTP/1.1
// over cleartext.
func startPlain(t *testing.T, h http.Handler) string {
	t.Helper()
	_, base := startServer(t, server.Config{}, h)
	return base
}

// startTLS serves h over TLS on 127.0.0.1 with ALPN h2 and http/1.1 (the
// TLS flags of the CLI are built elsewhere; the handler is the same) and
// returns the URL and a client that trusts the server and speaks HTTP/2.
func startTLS(t *testing.T, h http.Handler) (string, *http.Client) {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	return s.URL, s.Client()
}

// TestTCK runs the public http-wasm TCK (github.com/http-wasm/http-wasm-host-go
// tck v0.7.0) against wasmserve in middleware mode, over HTTP/1.1 and over
// HTTP/2 with TLS.
func TestTCK(t *testing.T) {
	backend := httptest.NewServer(tck.BackendHandler())
	t.Cleanup(backend.Close)
	h := newTestHandler(t, tck.GuestWASM, withHTTPWasm(HandlerConfig{Isolates: 4}, httpwasm.Config{Upstream: backend.URL}))

	t.Run("HTTP/1.1", func(t *testing.T) {
		url := startPlain(t, h)
		client := &http.Client{Transport: &http.Transport{}}
		tck.Run(t, client, url)
	})
	t.Run("HTTP/2", func(t *testing.T) {
		url, client := startTLS(t, h)
		probe, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		probe.Body.Close()
		if probe.ProtoMajor != 2 {
			t.Fatalf("client spoke %s, want HTTP/2", probe.Proto)
		}
		tck.Run(t, client, url)
	})
}
