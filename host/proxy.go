package host

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/wasmserve/wasmserve/abi"
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

// NewProxy returns the next handler of middleware mode: a reverse proxy to
// target that forwards each request as the guest left it. It keeps the
// request's Host (as the guest left it), sets X-Forwarded-For, -Host and
// -Proto, drops hop-by-hop headers, forwards request trailers, speaks
// HTTP/2 to https upstreams that offer it, and streams bodies both ways. An
// upstream that cannot be reached answers 502, logs why, and makes the
// guest's handle_response see is_error=1.
func NewProxy(target *url.URL, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // an edge server talks to its origin directly
	tr.ForceAttemptHTTP2 = true
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			pr.Out.Trailer = pr.In.Trailer // filled in as the body is read
		},
		Transport: tr,
		ErrorLog:  slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logger.Warn("upstream request failed; answering 502", "upstream", target.Redacted(),
				"method", r.Method, "uri", r.RequestURI, "err", err)
			abi.ReportNextError(w, err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
}
