package kv

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	contract "github.com/wasmserve/wasmserve/abi/kv"
)

// metrics are the stores' Prometheus metrics, labelled by store: they live
// as long as the Extension, across reloads.
type metrics struct {
	ops      *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytes    *prometheus.CounterVec
}

// durationBuckets are the latency histogram's bounds, in seconds: from
// 50 µs (a memory store) to 1 s (a Redis store far away, an fsync on a
// slow disk).
var durationBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}

func newMetrics() *metrics {
	return &metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wasmserve_kv_operations_total",
			Help: "Key-value operations of guests, by store, operation (get, set, delete, exists, keys, increment, compare_and_swap) and result (ok, not_found, invalid, too_big, quota, not_a_number, unavailable, timeout).",
		}, []string{"store", "op", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wasmserve_kv_duration_seconds",
			Help:    "Time a key-value operation spent in its store, by store and operation.",
			Buckets: durationBuckets,
		}, []string{"store", "op"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wasmserve_kv_bytes_total",
			Help: "Value bytes guests read from (direction read) and wrote to (written) a key-value store.",
		}, []string{"store", "direction"}),
	}
}

// Describe and Collect make metrics a prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.ops.Describe(ch)
	m.duration.Describe(ch)
	m.bytes.Describe(ch)
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.ops.Collect(ch)
	m.duration.Collect(ch)
	m.bytes.Collect(ch)
}

// storeMetrics are one store's series.
type storeMetrics struct {
	m             *metrics
	name          string
	read, written prometheus.Counter
}

func (m *metrics) forStore(name string) storeMetrics {
	return storeMetrics{m: m, name: name,
		read: m.bytes.WithLabelValues(name, "read"), written: m.bytes.WithLabelValues(name, "written")}
}

// result counts one operation fn with its result: code 0 is ok.
func (s storeMetrics) result(fn string, code contract.Code) {
	r := "ok"
	if code != 0 {
		r = strings.ReplaceAll(code.String(), " ", "_")
	}
	s.m.ops.WithLabelValues(s.name, fn, r).Inc()
}

// observe records the time fn spent in the store.
func (s storeMetrics) observe(fn string, d time.Duration) {
	s.m.duration.WithLabelValues(s.name, fn).Observe(d.Seconds())
}
