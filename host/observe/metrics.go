package observe

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wasmserve/wasmserve/host/reqinfo"
)

// Metrics is a Prometheus registry with wasmserve's series: the server
// (host/server) records requests, bytes, durations, connections and TLS
// handshakes into it, and [Metrics.Collect] adds a handler's isolates,
// queue, module and reloads. The Go runtime and process collectors are
// registered too. Serve it with an [Admin].
type Metrics struct {
	reg    *prometheus.Registry
	perApp bool

	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	guest         *prometheus.HistogramVec
	queueWait     *prometheus.HistogramVec
	bytesIn       *prometheus.CounterVec
	bytesOut      *prometheus.CounterVec
	unavailable   *prometheus.CounterVec
	timeouts      *prometheus.CounterVec
	single        *appSeries // the series without an app label
	apps          sync.Map   // app name → *appSeries, with perApp
	connsOpened   prometheus.Counter
	quicOpened    prometheus.Counter
	writeStalls   *prometheus.CounterVec
	tlsHandshakes *prometheus.CounterVec
	tlsFailures   prometheus.Counter
}

// latencyBuckets span 100 µs to 30 s: a warm guest answers in tens of
// microseconds, a handler timeout is seconds.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// NewMetrics returns a registry with the request-side series, the Go
// runtime collector and the process collector.
func NewMetrics() *Metrics { return newMetrics(false) }

// NewAppMetrics is NewMetrics for a server of many apps: every request
// series has an app label (reqinfo.Info.App; empty for a request no app
// served), and the handler series come from [Metrics.CollectApps].
func NewAppMetrics() *Metrics { return newMetrics(true) }

// appSeries are one app's request series without their code, method and
// proto labels.
type appSeries struct {
	guest, queueWait                         prometheus.Observer
	bytesIn, bytesOut, unavailable, timeouts prometheus.Counter
	byKey                                    sync.Map // request key → *requestSeries (requestSeriesOf)
}

func newMetrics(perApp bool) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), perApp: perApp}
	f := func(c prometheus.Collector) prometheus.Collector { m.reg.MustRegister(c); return c }
	var app []string
	if perApp {
		app = []string{"app"}
	}
	hist := func(name, help string) *prometheus.HistogramVec {
		return f(prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets}, app)).(*prometheus.HistogramVec)
	}
	counter := func(name, help string) *prometheus.CounterVec {
		return f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, app)).(*prometheus.CounterVec)
	}
	m.requests = f(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wasmserve_http_requests_total",
		Help: "HTTP requests answered, by status code, method and protocol.",
	}, append(app, "code", "method", "proto"))).(*prometheus.CounterVec)
	m.duration = f(prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "wasmserve_http_request_duration_seconds", Buckets: latencyBuckets,
		Help: "Time from a request's headers to the end of its response, by method and status class (2xx).",
	}, append(app, "method", "code"))).(*prometheus.HistogramVec)
	m.guest = hist("wasmserve_guest_call_duration_seconds",
		"Time a request spent inside the guest (handle_request, next and handle_response).")
	m.queueWait = hist("wasmserve_queue_wait_seconds",
		"Time a request waited for a free isolate (0 when one was idle).")
	m.bytesIn = counter("wasmserve_http_request_body_bytes_total", "Request body bytes read.")
	m.bytesOut = counter("wasmserve_http_response_body_bytes_total", "Response body bytes written, after compression.")
	m.unavailable = counter("wasmserve_http_unavailable_total",
		"503 answers: queue full or timed out, shutting down, or the guest's own.")
	m.timeouts = counter("wasmserve_http_gateway_timeouts_total",
		"504 answers: the handler timeout, or the guest's own.")
	if !perApp {
		m.single = m.seriesOf()
	}
	m.connsOpened = f(prometheus.NewCounter(prometheus.CounterOpts{
		Name: "wasmserve_connections_opened_total",
		Help: "Connections accepted: TCP, and QUIC (HTTP/3) from their first packet.",
	})).(prometheus.Counter)
	m.quicOpened = f(prometheus.NewCounter(prometheus.CounterOpts{
		Name: "wasmserve_quic_connections_opened_total",
		Help: "QUIC connections (HTTP/3) begun, among wasmserve_connections_opened_total.",
	})).(prometheus.Counter)
	m.writeStalls = f(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wasmserve_http_write_timeouts_total",
		Help: "Responses cut because the client stopped reading past the write timeout, by protocol; an HTTP/1 connection is reset at once.",
	}, []string{"proto"})).(*prometheus.CounterVec)
	m.tlsHandshakes = f(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wasmserve_tls_handshakes_total",
		Help: "Completed TLS handshakes, by TLS version.",
	}, []string{"version"})).(*prometheus.CounterVec)
	m.tlsFailures = f(prometheus.NewCounter(prometheus.CounterOpts{
		Name: "wasmserve_tls_handshake_failures_total",
		Help: "Connections (TCP or QUIC) closed before their TLS handshake completed.",
	})).(prometheus.Counter)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// seriesOf returns the request series of the label values (none, or the
// app's name).
func (m *Metrics) seriesOf(app ...string) *appSeries {
	return &appSeries{
		guest:     m.guest.WithLabelValues(app...),
		queueWait: m.queueWait.WithLabelValues(app...), bytesIn: m.bytesIn.WithLabelValues(app...),
		bytesOut: m.bytesOut.WithLabelValues(app...), unavailable: m.unavailable.WithLabelValues(app...),
		timeouts: m.timeouts.WithLabelValues(app...),
	}
}

// appSeriesOf returns the request series of app, made on its first request.
func (m *Metrics) appSeriesOf(app string) *appSeries {
	if s, ok := m.apps.Load(app); ok {
		return s.(*appSeries)
	}
	s, _ := m.apps.LoadOrStore(app, m.seriesOf(app))
	return s.(*appSeries)
}

// Registry returns the registry, to serve it or to register more series.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Collect adds the isolate, queue, module and reload series of h, read at
// every scrape. Their counters belong to the handler, not to one module
// generation, so they go on across reloads.
func (m *Metrics) Collect(h HandlerStatser) { m.reg.MustRegister(handlerCollector{h}) }

// CollectConnections adds the connection gauges, read from conns at every
// scrape.
func (m *Metrics) CollectConnections(conns func() (active, idle, closing int)) {
	m.reg.MustRegister(connCollector(conns))
}

// HandlerStatser is a handler whose state the metrics report.
type HandlerStatser interface {
	HandlerStats() HandlerStats
}

// HandlerStats is a handler's state at one moment.
type HandlerStats struct {
	// Idle, Busy and Size are the isolates of the module now serving:
	// waiting for work, serving, and kept in all.
	Idle, Busy, Size int
	// Waiting is the number of requests waiting for an isolate.
	Waiting int
	// Healthy is false while replacing isolates keeps failing.
	Healthy bool
	// CompileTime is how long the module now serving took to compile.
	CompileTime time.Duration
	// Generation counts the modules loaded.
	Generation uint64
	// Broken, Retired and Resets count isolates discarded after a fault,
	// closed after their requests, and reset, since the handler started.
	Broken, Retired, Resets uint64
	// Reloads and ReloadFailures count module reloads by result;
	// LastReloadFailed says the last one failed.
	Reloads, ReloadFailures uint64
	// LastReloadFailed: see Reloads.
	LastReloadFailed bool
}

// ConnOpened counts a new connection.
func (m *Metrics) ConnOpened() { m.connsOpened.Inc() }

// QUICConnOpened counts a new QUIC connection (also counted by ConnOpened).
func (m *Metrics) QUICConnOpened() { m.quicOpened.Inc() }

// WriteTimeout counts a response cut because its client stopped reading
// past the write deadline; proto is "HTTP/1.1", "HTTP/2.0" or "HTTP/3.0".
func (m *Metrics) WriteTimeout(proto string) { m.writeStalls.WithLabelValues(proto).Inc() }

// TLSHandshake counts a completed TLS handshake of the given version.
func (m *Metrics) TLSHandshake(version string) { m.tlsHandshakes.WithLabelValues(version).Inc() }

// TLSFailure counts a connection closed before its TLS handshake completed.
func (m *Metrics) TLSFailure() { m.tlsFailures.Inc() }

// statusCodes are the code label values of the statuses 100 to 599, made once:
// the label is the exact code, as promhttp's and Caddy's are; any other
// status is "other", so that the label set stays bounded.
var statusCodes = func() (c [500]string) {
	for i := range c {
		c[i] = strconv.Itoa(100 + i)
	}
	return c
}()

// statusClasses are the code label values of the request duration
// histogram: the class of the status (1xx to 5xx), or "other". A class,
// not the code: each label value of a histogram is a series per bucket.
var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// ObserveRequest records one finished request.
func (m *Metrics) ObserveRequest(r *http.Request, status int, bytesIn, bytesOut int64, d time.Duration, info *reqinfo.Info) {
	as := m.single
	if m.perApp {
		as = m.appSeriesOf(info.App)
	}
	rs := as.requestSeriesOf(m, info.App, r.Method, r.Proto, status)
	rs.count.Inc()
	rs.duration.Observe(d.Seconds())
	if info.Called {
		as.guest.Observe(info.Guest.Seconds())
	}
	if info.Isolate != "" || info.Queued > 0 {
		as.queueWait.Observe(info.Queued.Seconds())
	}
	as.bytesIn.Add(float64(bytesIn))
	as.bytesOut.Add(float64(bytesOut))
	switch status {
	case http.StatusServiceUnavailable:
		as.unavailable.Inc()
	case http.StatusGatewayTimeout:
		as.timeouts.Inc()
	}
}

// requestSeries are the two series a request's method, protocol and
// status pick: its counter (code, method, proto) and its duration
// histogram (method, class).
type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// requestSeriesOf returns the series of a request, resolved once per
// method, protocol and status and kept in as.byKey: a vector's
// WithLabelValues hashes and compares every label value under a lock on
// each call, a third of the metrics' cost per request. A protocol other
// than the four HTTP versions is looked up each time (net/http accepts any
// HTTP/d.d) rather than kept.
func (as *appSeries) requestSeriesOf(m *Metrics, app, method, proto string, status int) *requestSeries {
	mi, methodLabel := methodIndex(method)
	pi := protoIndex(proto)
	code, class := "other", "other"
	if status >= 100 && status < 600 {
		code, class = statusCodes[status-100], statusClasses[status/100-1]
	} else {
		status = 0
	}
	key := uint32(mi)<<16 | uint32(status)<<4 | uint32(pi)
	if pi != 0 {
		if rs, ok := as.byKey.Load(key); ok {
			return rs.(*requestSeries)
		}
	}
	var rs *requestSeries
	if m.perApp {
		rs = &requestSeries{m.requests.WithLabelValues(app, code, methodLabel, proto), m.duration.WithLabelValues(app, methodLabel, class)}
	} else {
		rs = &requestSeries{m.requests.WithLabelValues(code, methodLabel, proto), m.duration.WithLabelValues(methodLabel, class)}
	}
	if pi != 0 {
		as.byKey.Store(key, rs)
	}
	return rs
}

// methodIndex returns the method's label value and a small number for it;
// any other method is "other" (0), so that a client cannot grow the label
// set.
func methodIndex(m string) (int, string) {
	switch m {
	case http.MethodGet:
		return 1, http.MethodGet
	case http.MethodHead:
		return 2, http.MethodHead
	case http.MethodPost:
		return 3, http.MethodPost
	case http.MethodPut:
		return 4, http.MethodPut
	case http.MethodDelete:
		return 5, http.MethodDelete
	case http.MethodPatch:
		return 6, http.MethodPatch
	case http.MethodOptions:
		return 7, http.MethodOptions
	case http.MethodConnect:
		return 8, http.MethodConnect
	case http.MethodTrace:
		return 9, http.MethodTrace
	}
	return 0, "other"
}

// protoIndex numbers the four HTTP versions (1 to 4), anything else 0.
func protoIndex(p string) int {
	switch p {
	case "HTTP/1.1":
		return 1
	case "HTTP/2.0":
		return 2
	case "HTTP/1.0":
		return 3
	case "HTTP/3.0":
		return 4
	}
	return 0
}

var (
	descConnections = prometheus.NewDesc("wasmserve_connections",
		"Open connections by state (active: serving a request; idle: keep-alive; closing: new, in its TLS handshake, or hijacked).",
		[]string{"state"}, nil)
	handlerDescs    = newHandlerDescs(nil)
	appHandlerDescs = newHandlerDescs([]string{"app"})
)

// handlerDescriptors are the descriptors of a handler's series, with or
// without an app label first.
type handlerDescriptors struct {
	isolates, size, broken, retired, resets, queue, healthy, compile, generation, reloads, lastReload *prometheus.Desc
}

func newHandlerDescs(app []string) *handlerDescriptors {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(append([]string(nil), app...), labels...), nil)
	}
	return &handlerDescriptors{
		isolates: d("wasmserve_isolates", "Isolates of the module now serving, by state.", "state"),
		size:     d("wasmserve_isolates_configured", "Isolates the pool keeps."),
		broken: d("wasmserve_isolates_broken_total",
			"Isolates discarded after a trap, a timeout or an exit, and replaced in the background."),
		retired: d("wasmserve_isolates_retired_total",
			"Isolates closed after --max-requests-per-isolate requests and replaced by a new instance."),
		resets: d("wasmserve_isolates_resets_total",
			"Isolates renewed by resetting memory and globals to their state after start."),
		queue: d("wasmserve_queue_length", "Requests waiting for a free isolate now."),
		healthy: d("wasmserve_pool_healthy",
			"1 while the pool keeps itself at full size, 0 while replacing isolates keeps failing."),
		compile: d("wasmserve_module_compile_seconds",
			"How long the module now serving took to compile (or to load from the cache)."),
		generation: d("wasmserve_module_generation",
			"Modules loaded: 1, and one more for each successful reload."),
		reloads: d("wasmserve_reloads_total", "Module reloads, by result (success or failure).", "result"),
		lastReload: d("wasmserve_config_last_reload_successful",
			"1 when the last reload succeeded (or none was tried), 0 when it failed."),
	}
}

func (d *handlerDescriptors) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.isolates, d.size, d.broken, d.retired, d.resets, d.queue, d.healthy,
		d.compile, d.generation, d.reloads, d.lastReload}
}

type connCollector func() (active, idle, closing int)

func (c connCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descConnections }

func (c connCollector) Collect(ch chan<- prometheus.Metric) {
	active, idle, closing := c()
	for state, n := range map[string]int{"active": active, "idle": idle, "closing": closing} {
		ch <- prometheus.MustNewConstMetric(descConnections, prometheus.GaugeValue, float64(n), state)
	}
}

type handlerCollector struct{ h HandlerStatser }

func (c handlerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range handlerDescs.all() {
		ch <- d
	}
}

func (c handlerCollector) Collect(ch chan<- prometheus.Metric) {
	collectHandler(ch, handlerDescs, c.h.HandlerStats())
}

// AppStats is one app's handler state.
type AppStats struct {
	// App is the app's name.
	App string
	HandlerStats
}

// CollectApps adds the handler series of every app stats returns (at
// every scrape), with an app label: what [Metrics.Collect] adds for one
// handler.
func (m *Metrics) CollectApps(stats func() []AppStats) { m.reg.MustRegister(appsCollector(stats)) }

type appsCollector func() []AppStats

func (c appsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range appHandlerDescs.all() {
		ch <- d
	}
}

func (c appsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c() {
		collectHandler(ch, appHandlerDescs, st.HandlerStats, st.App)
	}
}

// collectHandler sends the series of one handler's stats; app is the app
// label's value, if the descriptors have one.
func collectHandler(ch chan<- prometheus.Metric, d *handlerDescriptors, st HandlerStats, app ...string) {
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, append(app, labels...)...)
	}
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), append(app, labels...)...)
	}
	gauge(d.isolates, float64(st.Idle), "idle")
	gauge(d.isolates, float64(st.Busy), "busy")
	gauge(d.size, float64(st.Size))
	gauge(d.queue, float64(st.Waiting))
	gauge(d.healthy, b2f(st.Healthy))
	gauge(d.compile, st.CompileTime.Seconds())
	gauge(d.generation, float64(st.Generation))
	counter(d.broken, st.Broken)
	counter(d.retired, st.Retired)
	counter(d.resets, st.Resets)
	counter(d.reloads, st.Reloads, "success")
	counter(d.reloads, st.ReloadFailures, "failure")
	gauge(d.lastReload, b2f(!st.LastReloadFailed))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// BuildInfo adds wasmserve_build_info{version, goversion, wazero} 1: what is
// running, for a dashboard to show and an alert to compare across replicas.
func (m *Metrics) BuildInfo(version, goVersion, wazero string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "wasmserve_build_info",
		Help:        "Always 1; its labels say which wasmserve, Go and wazero are running.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": goVersion, "wazero": wazero},
	})
	g.Set(1)
	m.reg.MustRegister(g)
}
