package outbound

import "github.com/prometheus/client_golang/prometheus"

var (
	descOutboundCalls = prometheus.NewDesc("wasmserve_outbound_calls_total",
		"Outbound calls guests sent, by origin (host:port) and outcome (ok: a response came back, timeout, canceled, error).",
		[]string{"origin", "outcome"}, nil)
	descOutboundRefused = prometheus.NewDesc("wasmserve_outbound_refused_total",
		"Outbound calls the policy refused (URL, resolved address or redirect); they never reached the network.", nil, nil)
	descOutboundInFlight = prometheus.NewDesc("wasmserve_outbound_in_flight",
		"Outbound calls sent whose response body is not yet closed.", nil, nil)
	descOutboundDuration = prometheus.NewDesc("wasmserve_outbound_duration_seconds",
		"Time from sending an outbound call to its response head or its failure.", nil, nil)
)

// collector exposes Extension.Stats.
type collector struct{ e *Extension }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOutboundCalls, descOutboundRefused, descOutboundInFlight, descOutboundDuration} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.e.Stats()
	for k, n := range st.Calls {
		ch <- prometheus.MustNewConstMetric(descOutboundCalls, prometheus.CounterValue, float64(n), k.Origin, k.Outcome)
	}
	ch <- prometheus.MustNewConstMetric(descOutboundRefused, prometheus.CounterValue, float64(st.Refused))
	ch <- prometheus.MustNewConstMetric(descOutboundInFlight, prometheus.GaugeValue, float64(st.InFlight))
	buckets := make(map[float64]uint64, len(st.DurationBuckets))
	for i, b := range st.DurationBuckets {
		buckets[b] = st.DurationCounts[i]
	}
	ch <- prometheus.MustNewConstHistogram(descOutboundDuration, st.DurationCounts[len(st.DurationCounts)-1], st.DurationSum, buckets)
}
