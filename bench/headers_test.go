package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// manyHeaders is a request with n distinct headers of about 12 bytes each,
// the shape of a 119 KB request of many small headers.
func manyHeaders(n int) *http.Request {
	r := httptest.NewRequest("GET", "/bench", nil)
	for i := range n {
		r.Header[fmt.Sprintf("X-H%05d", i)] = []string{"v"}
	}
	return r
}

// nativeReadAll is a native handler that looks at every request header, as
// the Go SDK does when it builds the guest's *http.Request, then answers
// like nativeHello.
func nativeReadAll(w http.ResponseWriter, r *http.Request) {
	n := 0
	for k := range r.Header {
		n += len(r.Header.Get(k))
	}
	if n < 0 {
		panic("unreachable")
	}
	nativeHello(w, r)
}

// BenchmarkHeaders10000 serves a request with 10 000 headers with the Go
// hello guest (whose SDK reads every header name, then every header's
// values) and with a native handler that reads them all, in the same run,
// and reports the guest's time per request and its ratio to native. Before
// get_header_values looked its name up in the map, one such request cost
// the guest seconds (quadratic in the header count).
func BenchmarkHeaders10000(b *testing.B) {
	r := manyHeaders(10000)
	per := func(h http.Handler) time.Duration {
		w := &sink{h: http.Header{}}
		h.ServeHTTP(w, r) // warm
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
		const n = 20
		start := time.Now()
		for range n {
			w.reset()
			h.ServeHTTP(w, r)
		}
		return time.Since(start) / n
	}
	native := per(http.HandlerFunc(nativeReadAll))
	guest := newHandler(b, testguest.Read(b, "hello"), bare)
	b.ResetTimer()
	var g time.Duration
	for range b.N {
		g = per(guest)
	}
	b.StopTimer()
	b.ReportMetric(float64(g.Microseconds()), "guest-µs/req")
	b.ReportMetric(float64(native.Microseconds()), "native-µs/req")
	b.ReportMetric(float64(g)/float64(native), "x-native")
	b.Logf("10 000 headers: guest %v, native %v per request, %.1fx", g, native, float64(g)/float64(native))
}
