package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/ext"
	"github.com/wasmserve/wasmserve/host/ext/kv"
	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/internal/testredis"
)

// kvRounds is how many turns BenchmarkKVRequest's sides take.
const kvRounds = 10

// kvValue is the value the benchmarks set: 64 bytes, as kvops sets.
var kvValue = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")

// kvBackends are the stores benchmarked, each a fresh one per benchmark.
var kvBackends = []struct {
	name string
	url  func(b *testing.B) string
}{
	{"mem", func(*testing.B) string { return "mem:" }},
	{"file", func(b *testing.B) string { return "file:" + filepath.Join(b.TempDir(), "kv.db") }},
	{"redis", func(b *testing.B) string { return testredis.Start(b).URL(0) }},
}

// kvOps are the operations benchmarked, by kvops' paths.
var kvOps = []struct {
	name string
	do   func(s kv.Store) error
}{
	{"get", func(s kv.Store) error { _, err := s.Get(context.Background(), "k"); return err }},
	{"set", func(s kv.Store) error { return s.Set(context.Background(), "k", kvValue, 0) }},
	{"incr", func(s kv.Store) error { _, err := s.Increment(context.Background(), "n", 1); return err }},
}

// BenchmarkKVStore: one operation on a store, called in process (no guest,
// no request): get and set of a 64-byte value, increment. file: pays an
// fsync per write, on the disk of the test's temporary directory; redis:
// a round trip to a redis-server on loopback.
func BenchmarkKVStore(b *testing.B) {
	for _, be := range kvBackends {
		for _, op := range kvOps {
			b.Run(be.name+"/"+op.name, func(b *testing.B) {
				s, err := kv.Open(be.url(b), kv.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				if err := s.Set(context.Background(), "k", kvValue, 0); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if err := op.do(s); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkKVRequest: a request whose handler makes one operation on a
// store, natively (a net/http handler calling the store) and in a Go guest
// through wasmserve_kv (bench/testdata/kvops), on the same store; and the
// guest's request without the operation (/none). Each runs b.N requests in
// the same run: native-ns/op, guest-ns/op and plain-guest-ns/op are each
// one's time per request, x-native the guest's over the native's, and
// added-ns/op what the operation adds to a guest's request.
func BenchmarkKVRequest(b *testing.B) {
	wasm, err := os.ReadFile(testguest.BuildPackage(b, "bench/testdata/kvops"))
	if err != nil {
		b.Fatal(err)
	}
	for _, be := range kvBackends {
		for _, op := range kvOps {
			b.Run(be.name+"/"+op.name, func(b *testing.B) {
				e, err := kv.New(kv.Config{Stores: []kv.StoreConfig{{Name: "default", URL: be.url(b)}}}, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close(context.Background())
				store := e.Store("default")
				if err := store.Set(context.Background(), "k", kvValue, 0); err != nil {
					b.Fatal(err)
				}
				native := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if err := op.do(store); err != nil {
						http.Error(w, err.Error(), http.StatusInternalServerError)
						return
					}
					io.WriteString(w, "ok")
				})
				cfg := defaults
				cfg.Extensions = []ext.Extension{e}
				guest := newHandler(b, wasm, cfg)
				w := &sink{h: http.Header{}}
				run := func(h http.Handler, path string, n int) time.Duration {
					r := httptest.NewRequest("GET", path, nil)
					start := time.Now()
					for i := 0; i < n; i++ {
						w.reset()
						h.ServeHTTP(w, r)
						if i == 0 && (w.status != 200 || w.n != 2) {
							b.Fatalf("%s: status %d, %d body bytes", path, w.status, w.n)
						}
					}
					return time.Since(start)
				}
				path := "/" + op.name
				run(native, path, 200) // warm up: connections, the guest's heap
				run(guest, path, 10000)
				run(guest, "/none", 10000)
				b.ReportAllocs()
				b.ResetTimer()
				// In ten rounds, each side in turn, so that the
				// machine's drift falls on all three alike.
				var tn, tg, tp time.Duration
				for i := range kvRounds {
					n := b.N/kvRounds + min(1, max(0, b.N%kvRounds-i))
					tn += run(native, path, n)
					tg += run(guest, path, n)
					tp += run(guest, "/none", n)
				}
				b.StopTimer()
				per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
				b.ReportMetric(per(tn), "native-ns/op")
				b.ReportMetric(per(tg), "guest-ns/op")
				b.ReportMetric(per(tp), "plain-guest-ns/op")
				b.ReportMetric(per(tg)-per(tp), "added-ns/op")
				b.ReportMetric(float64(tg)/float64(tn), "x-native")
			})
		}
	}
}
