package cgi

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// localRedirect is the request a local Location answers (RFC 3875 §6.2.2):
// a GET of path and query on the same server, without a body.
func localRedirect(r *http.Request, loc string, n int) *http.Request {
	r2 := r.Clone(context.WithValue(r.Context(), redirectsKey{}, n))
	u, err := url.ParseRequestURI(loc)
	if err != nil {
		u = &url.URL{Path: loc}
	}
	r2.Method = http.MethodGet
	r2.URL = u
	r2.RequestURI = loc
	r2.Body, r2.ContentLength = http.NoBody, 0
	r2.Header.Del("Content-Length")
	r2.Header.Del("Content-Type")
	return r2
}

// environ appends r's CGI/1.1 meta-variables (RFC 3875 §4.1), Wagi's
// X_FULL_URL and X_RAW_PATH_INFO, and then the configured environment to
// env, as KEY=VALUE.
func (x *cgi) environ(env []string, r *http.Request) []string {
	add := func(k, v string) { env = append(env, k+"="+v) }
	scheme, defPort := "http", "80"
	if r.TLS != nil {
		scheme, defPort = "https", "443"
	}
	name, port := r.Host, ""
	if h, p, err := net.SplitHostPort(r.Host); err == nil {
		name, port = h, p
	}
	if port == "" {
		port = defPort
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if _, p, err := net.SplitHostPort(a.String()); err == nil {
				port = p
			}
		}
	}
	add("GATEWAY_INTERFACE", "CGI/1.1")
	add("SERVER_SOFTWARE", "wasmserve")
	add("SERVER_NAME", name)
	add("SERVER_PORT", port)
	add("SERVER_PROTOCOL", r.Proto)
	add("REQUEST_METHOD", r.Method)
	add("REQUEST_URI", r.URL.RequestURI())
	add("SCRIPT_NAME", "")
	add("PATH_INFO", r.URL.Path)
	add("QUERY_STRING", r.URL.RawQuery)
	add("X_FULL_URL", scheme+"://"+r.Host+r.URL.RequestURI())
	add("X_RAW_PATH_INFO", r.URL.EscapedPath())
	if r.ContentLength > 0 {
		add("CONTENT_LENGTH", strconv.FormatInt(r.ContentLength, 10))
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		add("CONTENT_TYPE", ct)
	}
	if ip, p, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		add("REMOTE_ADDR", ip)
		add("REMOTE_HOST", ip)
		add("REMOTE_PORT", p)
	}
	if r.TLS != nil {
		add("HTTPS", "on")
	}
	add("HTTP_HOST", r.Host)
	for k, vs := range r.Header {
		// A name with "_" would pass for one with "-" (X_Forwarded_For
		// as X-Forwarded-For); Proxy is httpoxy: programs take
		// HTTP_PROXY for their outbound proxy.
		if strings.IndexByte(k, '_') >= 0 || k == "Proxy" || k == "Content-Type" || k == "Content-Length" || k == "Host" {
			continue
		}
		sep := ", "
		if k == "Cookie" {
			sep = "; "
		}
		add("HTTP_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_")), strings.Join(vs, sep))
	}
	n := len(env)
	for _, kv := range x.env {
		k, _, _ := strings.Cut(kv, "=")
		if !hasKey(env[:n], k) {
			env = append(env, kv)
		}
	}
	return env
}

// hasKey reports whether env has a KEY=VALUE entry for k.
func hasKey(env []string, k string) bool {
	for _, kv := range env {
		if len(kv) > len(k) && kv[len(k)] == '=' && kv[:len(k)] == k {
			return true
		}
	}
	return false
}
