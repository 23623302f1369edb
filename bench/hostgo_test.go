package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/wasmserve/wasmserve/bench/internal/hostgo"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// newHostGo serves the guest at rel (relative to the repository root)
// through http-wasm-host-go, as bench/hostgo does, closed with tb.
func newHostGo(tb testing.TB, rel string) *hostgo.Handler {
	tb.Helper()
	wasm, err := os.ReadFile(testguest.Path(rel))
	if err != nil {
		tb.Fatal(err)
	}
	h, err := hostgo.New(context.Background(), wasm)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// TestHostGo checks the load benchmark's other host of the WAT hello over
// a real connection: the hello answers itself through it, and a guest that
// hands the request on reaches the next handler, a 404, so a baseline that
// answers something other than the hello cannot pass for one.
func TestHostGo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		guest      string
		path       string
		wantStatus int
		wantBody   string
	}{
		{"hello", "guest-examples/hello-wat/hello.wasm", "/x", http.StatusOK, "Hello from wasmserve: /x\n"},
		{"hello with a query", "guest-examples/hello-wat/hello.wasm", "/a/b?c=d", http.StatusOK, "Hello from wasmserve: /a/b?c=d\n"},
		{"next is a 404", "host/testdata/next.wasm", "/x", http.StatusNotFound, "404 page not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(newHostGo(t, tt.guest))
			t.Cleanup(srv.Close)
			// Twice: the second request runs on an instance back from
			// the library's pool.
			for range 2 {
				resp, err := srv.Client().Get(srv.URL + tt.path)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
					t.Fatalf("GET %s: %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
				}
			}
		})
	}
}

// BenchmarkHelloHostGo is BenchmarkHelloWAT's guest on the other host,
// http-wasm-host-go with its defaults: the in-process side of load.sh's
// wat against hostgo.
func BenchmarkHelloHostGo(b *testing.B) {
	serveLoop(b, newHostGo(b, "guest-examples/hello-wat/hello.wasm"), hello(), nil, helloLen)
}
