package bench

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/executor/cgi"
	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/host/ext"
	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// upstreamJSON is what the benchmark's origin answers.
const upstreamJSON = `{"id":1,"name":"Leanne Graham","city":"Gwenborough"}`

// BenchmarkOutboundProxy: a request whose handler GETs one small JSON
// document from an origin on 127.0.0.1 and answers it, natively with
// http.Get on a keep-alive transport, and in a Go guest through the
// wasmserve_http host module (bench/testdata/proxy). Both run b.N requests
// in the same run; ns/op is their sum, native-ns/op and guest-ns/op each
// one's, and x-native the guest's time over the native's.
func BenchmarkOutboundProxy(b *testing.B) {
	origin := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, upstreamJSON)
	}))
	var conns atomic.Int64
	origin.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	origin.Start()
	defer origin.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	native := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := client.Get(origin.URL)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
	ob, err := outbound.New(outbound.Config{Allow: []string{origin.URL}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	cfg := defaults
	cfg.Executors = []executor.Kind{httpwasm.Kind(httpwasm.Config{GuestConfig: []byte(origin.URL)}), cgi.Kind}
	cfg.Extensions = []ext.Extension{ob}
	wasm, err := os.ReadFile(testguest.BuildPackage(b, "bench/testdata/proxy"))
	if err != nil {
		b.Fatal(err)
	}
	guest := newHandler(b, wasm, cfg)
	r := httptest.NewRequest("GET", "/proxy", nil)
	w := &sink{h: http.Header{}}
	run := func(h http.Handler, n int) time.Duration {
		start := time.Now()
		for i := 0; i < n; i++ {
			w.reset()
			h.ServeHTTP(w, r)
			if i == 0 && (w.status != 200 || w.n != len(upstreamJSON)) {
				b.Fatalf("status %d, %d body bytes, want 200 and %d", w.status, w.n, len(upstreamJSON))
			}
		}
		return time.Since(start)
	}
	run(native, 200) // warm both up: connections, the guest's heap
	run(guest, 200)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := conns.Load()
	tn := run(native, b.N)
	c1 := conns.Load()
	tg := run(guest, b.N)
	b.StopTimer()
	if c1-c0 > 2 || conns.Load()-c1 > 2 {
		// Each side should reuse its connection.
		b.Errorf("connections opened to the origin: %d native, %d by the guest, for %d requests each", c1-c0, conns.Load()-c1, b.N)
	}
	b.ReportMetric(float64(tn.Nanoseconds())/float64(b.N), "native-ns/op")
	b.ReportMetric(float64(tg.Nanoseconds())/float64(b.N), "guest-ns/op")
	b.ReportMetric(float64(tg)/float64(tn), "x-native")
}
