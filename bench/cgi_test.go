package bench

import (
	"os"
	"testing"

	"github.com/wasmserve/wasmserve/host"

	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// The CGI hellos answer "hello, CGI from C: GET /bench\n" (or "from Go"),
// as long as the native hello's answer. Every request runs the command's
// _start on a fresh instance: the isolate it ran on is reset or replaced
// in the background, so two isolates let one be renewed while the other
// serves.

// cgiWarmup is the CGI benchmarks' warm-up: their guests keep no heap from
// one request to the next, so there is no steady state to wait for.
const cgiWarmup = 200

// cgiConfig is bare with two isolates.
var cgiConfig = host.HandlerConfig{Isolates: 2}

const cgiHelloLen = len("hello, CGI from C: GET /bench\n")

func cgiHelloC(b *testing.B) []byte {
	wasm, err := os.ReadFile(testguest.Path("guest-examples/cgi-c/hello.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	return wasm
}

// BenchmarkCGIHelloC: the C command returns from _start, so its isolate is
// reset to its state before _start after each request.
func BenchmarkCGIHelloC(b *testing.B) {
	h := newHandler(b, cgiHelloC(b), cgiConfig)
	serveLoopWarm(b, h, hello(), nil, cgiHelloLen, cgiWarmup)
	b.ReportMetric(float64(h.Pool().Resets())/float64(b.N+cgiWarmup), "resets/op")
}

// BenchmarkCGIHelloCReplaced is the C hello with a directory granted, which
// makes fd_close WASI's own and stops resets: each request's isolate is
// replaced by a new instance instead, the cost resets save.
func BenchmarkCGIHelloCReplaced(b *testing.B) {
	cfg := cgiConfig
	cfg.Dirs = []runtimepool.Dir{{Host: b.TempDir(), Guest: "/data", ReadOnly: true}}
	h := newHandler(b, cgiHelloC(b), cfg)
	serveLoopWarm(b, h, hello(), nil, cgiHelloLen, cgiWarmup)
	b.ReportMetric(float64(h.Pool().Resets())/float64(b.N+cgiWarmup), "resets/op")
}

func BenchmarkCGIHelloGo(b *testing.B) {
	wasm, err := os.ReadFile(testguest.BuildCommand(b, "guest-examples/cgi-go"))
	if err != nil {
		b.Fatal(err)
	}
	h := newHandler(b, wasm, cgiConfig)
	serveLoopWarm(b, h, hello(), nil, len("hello, CGI from Go: GET /bench\n"), cgiWarmup)
	b.ReportMetric(float64(h.Pool().Resets())/float64(b.N+cgiWarmup), "resets/op")
}
