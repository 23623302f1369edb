package httpwasm

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasmserve/wasmserve/host/observe"
)

// ParseUpstream checks an --upstream value: an absolute http or https URL
// with a host, and optionally a base path that request paths are joined to.
func ParseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("upstream %q: %w", s, errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("upstream %q: want an http:// or https:// URL", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("upstream %q: no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("upstream %q: a query or fragment is not allowed", s)
	}
	return u, nil
}

// ProxyConfig tunes the reverse proxy of middleware mode. The zero value is
// valid: 64 idle connections kept to the upstream and a 30 s bound on
// connecting and on waiting for the response headers.
type ProxyConfig struct {
	// MaxIdle is how many idle connections to the upstream are kept for
	// reuse. 0 means 64; at least as many as requests run at once (the
	// isolates) avoids a new connection per request under load.
	MaxIdle int
	// Timeout bounds dialling the upstream and then waiting for its
	// response headers, each; 0 means 30 s. A streaming body is not
	// bounded by it.
	Timeout time.Duration
	// Logger receives upstream failures. Nil discards.
	Logger *slog.Logger
}

// Defaults of ProxyConfig.
const (
	DefaultUpstreamMaxIdle = 64
	DefaultUpstreamTimeout = 30 * time.Second
)

// NewProxy returns the next handler of middleware mode: a reverse proxy to
// target that forwards each request as the guest left it. It keeps the
// request's Host (as the guest left it), sets X-Forwarded-For, -Host and
// -Proto, drops hop-by-hop headers, forwards request trailers, speaks
// HTTP/2 to https upstreams that offer it, and streams bodies both ways. An
// upstream that cannot be reached answers 502, logs why, and makes the
// guest's handle_response see is_error=1.
func NewProxy(target *url.URL, cfg ProxyConfig) http.Handler {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = DefaultUpstreamMaxIdle
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultUpstreamTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // an edge server talks to its origin directly
	tr.ForceAttemptHTTP2 = true
	// net/http keeps 2 idle connections a host by default: with more
	// requests than that in flight, each one beyond closes its connection
	// after the response and the next dials again (see RATIONALE.md).
	tr.MaxIdleConns = cfg.MaxIdle
	tr.MaxIdleConnsPerHost = cfg.MaxIdle
	tr.ResponseHeaderTimeout = cfg.Timeout
	tr.DialContext = (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = cfg.Timeout
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			pr.Out.Trailer = pr.In.Trailer // filled in as the body is read
		},
		Transport:  tracingTransport{tr},
		BufferPool: proxyBuffers{},
		ErrorLog:   slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logger.Warn("upstream request failed; answering 502", "upstream", target.Redacted(),
				"method", r.Method, "uri", r.RequestURI, "err", err)
			ReportNextError(w, err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
}

// proxyBuffers lends the reverse proxy its body-copy buffers: without a
// pool it allocates 32 KiB a request, four fifths of all the bytes the
// server allocated under load, and the garbage collection that followed
// cost more than the guest call.
type proxyBuffers struct{}

var proxyBufferPool = sync.Pool{New: func() any { return make([]byte, 32<<10) }}

func (proxyBuffers) Get() []byte { return proxyBufferPool.Get().([]byte) }

func (proxyBuffers) Put(b []byte) {
	if cap(b) == 32<<10 {
		proxyBufferPool.Put(b[:cap(b)]) // boxing the slice costs 24 bytes, against 32 KiB a request
	}
}

// tracingTransport gives each upstream request of middleware mode a client
// span under the guest's, and sends its traceparent to the upstream.
type tracingTransport struct{ rt http.RoundTripper }

func (t tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out, span := observe.ChildSpan(req, "upstream "+req.Method, trace.SpanKindClient)
	if span == nil {
		return t.rt.RoundTrip(req)
	}
	out.Header = req.Header.Clone() // a RoundTripper must not change its request
	observe.TraceContext.Inject(out.Context(), propagation.HeaderCarrier(out.Header))
	span.SetAttributes(attribute.String("http.request.method", req.Method),
		attribute.String("server.address", req.URL.Host), attribute.String("url.full", req.URL.Redacted()))
	resp, err := t.rt.RoundTrip(out)
	if err == nil {
		span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
		if resp.StatusCode >= 500 {
			span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
		}
	}
	observe.EndSpan(span, err)
	return resp, err
}
