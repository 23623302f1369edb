// Package bench holds wasmserve's benchmarks: in-process requests through
// the ABI here, and the load, start-up and memory scripts beside them. Every
// figure is compared with a native net/http handler measured in the same run.
package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/bench/testdata/goops/ops"
	"github.com/wasmserve/wasmserve/host"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// sink is a ResponseWriter that keeps nothing, so the benchmarks measure
// the handler and not a recorder.
type sink struct {
	h      http.Header
	status int
	n      int
}

func (s *sink) Header() http.Header  { return s.h }
func (s *sink) WriteHeader(code int) { s.status = code }

func (s *sink) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	s.n += len(p)
	return len(p), nil
}

func (s *sink) reset() {
	clear(s.h)
	s.status, s.n = 0, 0
}

// nativeHello is bench/native's handler, repeated here so the package
// needs no import of a main package.
func nativeHello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "Hello from wasmserve: "+r.URL.RequestURI()+"\n")
}

// bare is a pool of one isolate with no limits: the ABI alone.
var bare = host.HandlerConfig{Isolates: 1}

// defaults is a pool of one isolate with the limits `wasmserve serve` sets
// by default: what a request costs out of the box.
var defaults = host.HandlerConfig{
	Isolates:       1,
	HandlerTimeout: 30 * time.Second,
	MaxBody:        10 << 20,
}

func newHandler(b *testing.B, wasm []byte, cfg host.HandlerConfig) *host.Handler {
	b.Helper()
	cfg.CacheDir = testguest.CacheDir(b)
	h, err := host.NewHandler(context.Background(), wasm, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// warmup is how many requests serveLoop serves before timing.
const warmup = 20000

// serveLoop runs h over one reused request and checks the first answer.
func serveLoop(b *testing.B, h http.Handler, r *http.Request, body []byte, wantLen int) {
	b.Helper()
	serveLoopWarm(b, h, r, body, wantLen, warmup)
}

// serveLoopWarm is serveLoop with warm requests before timing.
func serveLoopWarm(b *testing.B, h http.Handler, r *http.Request, body []byte, wantLen, warm int) {
	b.Helper()
	w := &sink{h: http.Header{}}
	var rd bytes.Reader
	// A Go guest grows its heap over its first thousands of requests;
	// warm up so that the figures are the steady state.
	// Every request gets r's own body back, as a server hands each one a
	// fresh request: a handler that wraps r.Body (http.MaxBytesReader)
	// would otherwise wrap the previous iteration's wrapper, a chain as
	// long as the benchmark that the garbage collector has to walk.
	body0 := r.Body
	serve := func() {
		r.Body = body0
		if body != nil {
			rd.Reset(body)
			r.Body = io.NopCloser(&rd)
		}
		w.reset()
		h.ServeHTTP(w, r)
	}
	for range warm {
		serve()
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve()
		if i == 0 && (w.status != 200 || w.n < wantLen) {
			b.Fatalf("status %d, %d body bytes, want 200 and at least %d", w.status, w.n, wantLen)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time, user and system, that the process has used, in
// nanoseconds: on a shared machine it moves far less with other load than
// the wall-clock ns/op does. It counts the garbage collector's workers, a
// real cost of a request's allocations.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func hello() *http.Request {
	return httptest.NewRequest("GET", "/bench", nil)
}

const helloLen = len("Hello from wasmserve: /bench\n")

func BenchmarkHelloNative(b *testing.B) {
	serveLoop(b, http.HandlerFunc(nativeHello), hello(), nil, helloLen)
}

func watHello(b testing.TB) []byte {
	wasm, err := os.ReadFile(testguest.Path("guest-examples/hello-wat/hello.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	return wasm
}

func BenchmarkHelloWAT(b *testing.B) {
	serveLoop(b, newHandler(b, watHello(b), bare), hello(), nil, helloLen)
}

func BenchmarkHelloWATDefaults(b *testing.B) {
	serveLoop(b, newHandler(b, watHello(b), defaults), hello(), nil, helloLen)
}

func BenchmarkHelloGo(b *testing.B) {
	serveLoop(b, newHandler(b, testguest.Read(b, "hello"), bare), hello(), nil, helloLen)
}

func BenchmarkHelloGoDefaults(b *testing.B) {
	serveLoop(b, newHandler(b, testguest.Read(b, "hello"), defaults), hello(), nil, helloLen)
}

var body64K = bytes.Repeat([]byte("wasmserve-64KiB."), 4096)

// post64K is a POST as net/http's server presents one with a 64 KiB body.
func post64K() *http.Request {
	r := httptest.NewRequest("POST", "/echo", nil)
	r.ContentLength = int64(len(body64K))
	r.Header.Set("Content-Length", strconv.Itoa(len(body64K)))
	return r
}

func BenchmarkEcho64KiBNative(b *testing.B) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.Copy(w, r.Body)
	})
	serveLoop(b, echo, post64K(), body64K, len(body64K))
}

// BenchmarkEcho64KiBWAT copies the body through guest memory as the native
// handler copies it through io.Copy: the ABI's cost of a 64 KiB body.
func BenchmarkEcho64KiBWAT(b *testing.B) {
	wasm, err := os.ReadFile("testdata/copy.wasm")
	if err != nil {
		b.Fatal(err)
	}
	serveLoop(b, newHandler(b, wasm, bare), post64K(), body64K, len(body64K))
}

// BenchmarkEcho64KiBCopyGo copies the body with io.Copy in a Go guest, as
// copy.wat does in WAT and the native handler in Go: the SDK's cost of a
// 64 KiB body.
func BenchmarkEcho64KiBCopyGo(b *testing.B) {
	wasm, err := os.ReadFile(testguest.BuildPackage(b, "bench/testdata/copygo"))
	if err != nil {
		b.Fatal(err)
	}
	serveLoop(b, newHandler(b, wasm, bare), post64K(), body64K, len(body64K))
}

// BenchmarkEcho64KiBGo is the echo example, which answers the request as
// JSON (its body a JSON string): the Go guest's own work dominates.
func BenchmarkEcho64KiBGo(b *testing.B) {
	serveLoop(b, newHandler(b, testguest.Read(b, "echo"), bare), post64K(), body64K, len(body64K))
}

// BenchmarkHelloWATFresh serves every request on a fresh isolate
// (--max-requests-per-isolate 1): the WAT hello keeps all its state in
// memory and globals, so each isolate is reset to its state after start.
func BenchmarkHelloWATFresh(b *testing.B) {
	cfg := bare
	cfg.Isolates = 2
	cfg.MaxRequestsPerIsolate = 1
	h := newHandler(b, watHello(b), cfg)
	serveLoop(b, h, hello(), nil, helloLen)
}

// BenchmarkHelloGoFresh is the Go hello with a fresh isolate per request: a
// Go guest cannot be reset (RATIONALE.md), so every isolate is a new
// instance, made in the background by two spares' worth of isolates.
func BenchmarkHelloGoFresh(b *testing.B) {
	cfg := bare
	cfg.Isolates = 2
	cfg.MaxRequestsPerIsolate = 1
	h := newHandler(b, testguest.Read(b, "hello"), cfg)
	w := &sink{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.reset()
		h.ServeHTTP(w, hello())
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkHelloGoFloor is the hello in Go without the SDK: the cost of
// entering a Go module through go:wasmexport and of its host calls, the
// floor under any Go guest (bench/testdata/floorgo).
func BenchmarkHelloGoFloor(b *testing.B) {
	wasm, err := os.ReadFile(testguest.BuildPackage(b, "bench/testdata/floorgo"))
	if err != nil {
		b.Fatal(err)
	}
	serveLoop(b, newHandler(b, wasm, bare), hello(), nil, helloLen)
}

// BenchmarkGoGuestOps times, one by one, the Go runtime operations a
// request through the SDK is made of (an allocation, a map assignment,
// lookup and iteration, an interface assertion ...) inside a Go guest and
// natively: what each costs in a guest is the floor under the SDK, which
// can only do fewer of them. Each guest request runs the operation
// goopsReps times, and the native side as many; cpu-ns/op is per
// operation, leaving out the request around it (the "call" row is an empty
// function call).
func BenchmarkGoGuestOps(b *testing.B) {
	wasm, err := os.ReadFile(testguest.BuildPackage(b, "bench/testdata/goops"))
	if err != nil {
		b.Fatal(err)
	}
	const goopsReps = 1000
	for _, name := range ops.Names {
		var native float64
		b.Run(name+"/native", func(b *testing.B) {
			op := ops.ByName(name)
			cpu0 := cpuTime()
			for i := 0; i < b.N*goopsReps; i++ {
				op()
			}
			native = float64(cpuTime()-cpu0) / float64(b.N) / goopsReps
			b.ReportMetric(native, "cpu-ns/op")
		})
		b.Run(name+"/guest", func(b *testing.B) {
			cfg := bare
			cfg.Env = []string{"OP=" + name, "REPS=" + strconv.Itoa(goopsReps)}
			h := newHandler(b, wasm, cfg)
			w := &sink{h: http.Header{}}
			r := hello()
			for range 200 {
				w.reset()
				h.ServeHTTP(w, r)
			}
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w.reset()
				h.ServeHTTP(w, r)
				if i == 0 && w.status != 200 {
					b.Fatalf("status %d", w.status)
				}
			}
			b.StopTimer()
			per := float64(cpuTime()-cpu0) / float64(b.N) / goopsReps
			b.ReportMetric(per, "cpu-ns/op")
			if native > 0 {
				b.ReportMetric(per/native, "x-native")
			}
		})
	}
}
