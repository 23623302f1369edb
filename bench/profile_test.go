package bench

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// guestProfileOut, when set, receives the profile BenchmarkHelloGoProfiling
// (or BenchmarkEcho64KiBGoProfiling) collected: `go test -run '^$' -bench
// HelloGoProfiling -args -guestprofile /tmp/hello.pprof ./bench/`.
var guestProfileOut = flag.String("guestprofile", "", "write the guest profile of the profiling benchmarks to this file")

// The guest profiler's cost on the Go hello, beside BenchmarkHelloGoDefaults:
// compiled in but not collecting, and collecting.

func BenchmarkHelloGoProfilerIdle(b *testing.B) {
	cfg := defaults
	cfg.GuestProfiler = true
	serveLoop(b, newHandler(b, testguest.Read(b, "hello"), cfg), hello(), nil, helloLen)
}

func BenchmarkHelloGoProfiling(b *testing.B) {
	cfg := defaults
	cfg.GuestProfiler = true
	h := newHandler(b, testguest.Read(b, "hello"), cfg)
	stop, err := h.StartGuestProfile()
	if err != nil {
		b.Fatal(err)
	}
	defer writeProfile(b, stop)
	serveLoop(b, h, hello(), nil, helloLen)
}

func BenchmarkEcho64KiBGoProfiling(b *testing.B) {
	cfg := bare
	cfg.GuestProfiler = true
	h := newHandler(b, testguest.Read(b, "echo"), cfg)
	stop, err := h.StartGuestProfile()
	if err != nil {
		b.Fatal(err)
	}
	defer writeProfile(b, stop)
	serveLoop(b, h, post64K(), body64K, len(body64K))
}

func writeProfile(b *testing.B, stop func() *profile.Profile) {
	prof := stop()
	if *guestProfileOut == "" {
		return
	}
	var buf bytes.Buffer
	if err := prof.Write(&buf); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(*guestProfileOut, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEcho64KiBCopyGoProfiling is BenchmarkEcho64KiBCopyGo with the
// guest profiler collecting: where the Go copy's time goes.
func BenchmarkEcho64KiBCopyGoProfiling(b *testing.B) {
	wasm, err := os.ReadFile(testguest.BuildPackage(b, "bench/testdata/copygo"))
	if err != nil {
		b.Fatal(err)
	}
	cfg := bare
	cfg.GuestProfiler = true
	h := newHandler(b, wasm, cfg)
	stop, err := h.StartGuestProfile()
	if err != nil {
		b.Fatal(err)
	}
	defer writeProfile(b, stop)
	serveLoop(b, h, post64K(), body64K, len(body64K))
}
