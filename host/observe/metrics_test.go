package observe

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/wasmserve/wasmserve/host/reqinfo"
)

// TestObserveRequestSeries: requests land in the counter series of their
// code, method and protocol, and in the histogram of their method and
// class, however often the same series is resolved again, from many
// goroutines at once, with unknown methods, protocols and statuses
// folded into "other" (or, for a protocol, kept as sent).
func TestObserveRequestSeries(t *testing.T) {
	t.Parallel()
	for _, perApp := range []bool{false, true} {
		m := newMetrics(perApp)
		req := func(method, proto string) *http.Request {
			r := httptest.NewRequest(method, "/", nil)
			r.Proto = proto
			return r
		}
		cases := []struct {
			name          string
			r             *http.Request
			status, times int
			labels        []string // code, method, proto
			class         string
		}{
			{"get 200", req("GET", "HTTP/1.1"), 200, 30, []string{"200", "GET", "HTTP/1.1"}, "2xx"},
			{"get 404", req("GET", "HTTP/1.1"), 404, 7, []string{"404", "GET", "HTTP/1.1"}, "4xx"},
			{"post h2 201", req("POST", "HTTP/2.0"), 201, 5, []string{"201", "POST", "HTTP/2.0"}, "2xx"},
			{"odd method", req("BREW", "HTTP/3.0"), 500, 3, []string{"500", "other", "HTTP/3.0"}, "5xx"},
			{"odd proto", req("GET", "HTTP/1.2"), 200, 4, []string{"200", "GET", "HTTP/1.2"}, "2xx"},
			{"odd status", req("HEAD", "HTTP/1.0"), 999, 2, []string{"other", "HEAD", "HTTP/1.0"}, "other"},
		}
		var wg sync.WaitGroup
		for _, c := range cases {
			for range c.times {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m.ObserveRequest(c.r, c.status, 0, 0, time.Millisecond, &reqinfo.Info{App: "a"})
				}()
			}
		}
		wg.Wait()
		for _, c := range cases {
			labels, hist := c.labels, []string{c.labels[1], c.class}
			if perApp {
				labels, hist = append([]string{"a"}, labels...), append([]string{"a"}, hist...)
			}
			var got dto.Metric
			if err := m.requests.WithLabelValues(labels...).Write(&got); err != nil {
				t.Fatal(err)
			}
			if n := got.GetCounter().GetValue(); n != float64(c.times) {
				t.Errorf("perApp=%v %s: counter %v, want %d", perApp, c.name, n, c.times)
			}
			want := uint64(c.times)
			if c.name == "get 200" || c.name == "odd proto" {
				want = 30 + 4 // one histogram series: GET 2xx
			}
			var h dto.Metric
			if err := m.duration.WithLabelValues(hist...).(interface{ Write(*dto.Metric) error }).Write(&h); err != nil {
				t.Fatal(err)
			}
			if n := h.GetHistogram().GetSampleCount(); n != want {
				t.Errorf("perApp=%v %s: histogram %v has %d samples, want %d", perApp, c.name, hist, n, want)
			}
		}
	}
}

// BenchmarkObserveRequest is one request's metrics with the series
// resolved once (ObserveRequest) and, for comparison, the two vector
// lookups by label values it replaces.
func BenchmarkObserveRequest(b *testing.B) {
	m := NewMetrics()
	r := httptest.NewRequest("GET", "/", nil)
	info := &reqinfo.Info{Isolate: "1", Called: true}
	b.Run("ObserveRequest", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			m.ObserveRequest(r, 200, 0, 13, time.Millisecond, info)
		}
	})
	b.Run("WithLabelValues", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			m.requests.WithLabelValues("200", "GET", "HTTP/1.1").Inc()
			m.duration.WithLabelValues("GET", "2xx").Observe(0.001)
		}
	})
	b.Run("resolved", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			rs := m.single.requestSeriesOf(m, "", "GET", "HTTP/1.1", 200)
			rs.count.Inc()
			rs.duration.Observe(0.001)
		}
	})
}
