package bench

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/log"

	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/accesslog"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// pairLoop serves b.N requests through each of two handlers, alternating
// in chunks of 500 so that both see the same machine load, and reports each
// one's CPU ns per request and their ratio (b over a). Each request is made
// anew with httptest.NewRequest, which parses it as a server would: the
// ratio is against a request's cost in a server, not against a reused one.
func pairLoop(b *testing.B, a, bh http.Handler, newReq func() *http.Request, unitA, unitB string) {
	b.Helper()
	w := &sink{h: http.Header{}}
	serve := func(h http.Handler) {
		w.reset()
		h.ServeHTTP(w, newReq())
	}
	for range warmup / 4 {
		serve(a)
		serve(bh)
	}
	if w.status != 200 {
		b.Fatalf("status %d", w.status)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var cpuA, cpuB int64
	const chunk = 500
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		t0 := cpuTime()
		for range n {
			serve(a)
		}
		t1 := cpuTime()
		for range n {
			serve(bh)
		}
		cpuA += t1 - t0
		cpuB += cpuTime() - t1
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuA)/float64(b.N), unitA+"-cpu-ns/op")
	b.ReportMetric(float64(cpuB)/float64(b.N), unitB+"-cpu-ns/op")
	b.ReportMetric(float64(cpuB)/float64(cpuA), unitB+"/"+unitA)
}

// BenchmarkAccessLog is the WAT hello behind wasmserve's server front (ids,
// Server header, recorder) with the access log off, then on, as
// `wasmserve serve` writes it (internal/accesslog) to /dev/null; and, for
// comparison, through charmbracelet/log's JSON formatter, one write(2) a
// line.
func BenchmarkAccessLog(b *testing.B) {
	h := newHandler(b, watHello(b), defaults)
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	off := server.NewServer(server.Config{ServerHeader: server.DefaultServerHeader}, h).Handler()
	for _, format := range []string{"json", "logfmt", "charm-json"} {
		b.Run(format, func(b *testing.B) {
			var logger *slog.Logger
			if format == "charm-json" {
				logger = slog.New(log.NewWithOptions(devnull, log.Options{Formatter: log.JSONFormatter, ReportTimestamp: true}))
			} else {
				var flush func()
				logger, flush = accesslog.New(devnull, format)
				defer flush()
			}
			on := server.NewServer(server.Config{ServerHeader: server.DefaultServerHeader, AccessLog: logger}, h).Handler()
			pairLoop(b, off, on, hello, "off", "on")
		})
	}
}

// BenchmarkServerFront is the cost of the server front itself: the bare
// handler, then behind the server's handler without access log; for the
// WAT hello and the Go hello (whose guest also reads the X-Request-Id the
// front adds, a header and a string more a request).
func BenchmarkServerFront(b *testing.B) {
	for _, g := range []struct {
		name string
		wasm func(testing.TB) []byte
	}{
		{"wat", watHello},
		{"go", func(tb testing.TB) []byte { return testguest.Read(tb, "hello") }},
	} {
		b.Run(g.name, func(b *testing.B) {
			h := newHandler(b, g.wasm(b), defaults)
			front := server.NewServer(server.Config{ServerHeader: server.DefaultServerHeader}, h).Handler()
			pairLoop(b, h, front, hello, "bare", "front")
		})
	}
}

// BenchmarkCompress is a 16 KiB JSON response from a native handler, sent
// as is and then compressed with each encoding: the CPU a compressed
// response costs, and the bytes it saves (bytes-out of 16384).
func BenchmarkCompress(b *testing.B) {
	var body bytes.Buffer
	for i := 0; body.Len() < 16<<10; i++ {
		body.WriteString(`{"id":` + strings.Repeat("7", i%5+1) + `,"name":"wasmserve","tags":["edge","wasm","isolate"],"ok":true},`)
	}
	payload := body.Bytes()[:16<<10]
	native := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(payload)
	})
	front := server.NewServer(server.Config{Compress: &server.CompressConfig{}}, native).Handler()
	for _, enc := range []string{"gzip", "br", "zstd"} {
		b.Run(enc, func(b *testing.B) {
			identity := func() *http.Request { return httptest.NewRequest("GET", "/", nil) }
			pairLoop(b, front, withEncoding(front, enc), identity, "identity", enc)
			w := &sink{h: http.Header{}}
			front.ServeHTTP(w, withAccept(identity(), enc))
			b.ReportMetric(float64(w.n), "bytes-out")
			if w.h.Get("Content-Encoding") != enc {
				b.Fatalf("Content-Encoding %q", w.h.Get("Content-Encoding"))
			}
		})
	}
}

// withEncoding sets Accept-Encoding on every request before h.
func withEncoding(h http.Handler, enc string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, withAccept(r, enc))
	})
}

func withAccept(r *http.Request, enc string) *http.Request {
	r.Header.Set("Accept-Encoding", enc)
	return r
}
