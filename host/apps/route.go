// Package apps serves many applications from one server: a routing table
// that sends each request to the app whose route is most specific (by host
// and path), static folders served with net/http's file-server semantics,
// and a set of apps that a new manifest replaces app by app, keeping the
// handlers of the apps it leaves unchanged.
package apps

import (
	"fmt"
	"strings"
)

// Route is one route of an app: an optional host and a path, exact or a
// prefix. Its text form is "/exact", "/prefix/...", "host/..." or
// "host/path" (with "/..." at the end for a prefix).
type Route struct {
	// Host is the host the route answers (lower case, no port); empty
	// answers any host.
	Host string
	// Path is the exact path, or for a prefix the path without its
	// "/...": "/assets" for "/assets/...", "" for "/...".
	Path string
	// Prefix says the route answers Path and every path under it.
	Prefix bool
}

// ParseRoute reads a route's text form.
func ParseRoute(s string) (Route, error) {
	var r Route
	if s == "" {
		return r, fmt.Errorf("route %q: empty (want /path, /prefix/..., host/... or host/path)", s)
	}
	p := s
	if !strings.HasPrefix(s, "/") {
		i := strings.IndexByte(s, '/')
		if i < 0 {
			return r, fmt.Errorf("route %q: no path (a host route is host/path or host/...)", s)
		}
		r.Host, p = strings.ToLower(s[:i]), s[i:]
		if err := checkHost(r.Host); err != nil {
			return r, fmt.Errorf("route %q: %w", s, err)
		}
	}
	if strings.HasSuffix(p, "/...") {
		r.Prefix, p = true, strings.TrimSuffix(p, "/...")
	}
	if strings.Contains(p, "...") {
		return r, fmt.Errorf("route %q: \"...\" only ends a prefix, after a slash: /prefix/...", s)
	}
	for _, seg := range strings.Split(p, "/")[1:] {
		switch {
		case seg == "." || seg == "..":
			return r, fmt.Errorf("route %q: a path segment may not be . or ..", s)
		case seg == "" && !(p == "/" && !r.Prefix):
			return r, fmt.Errorf("route %q: empty path segment (a double or trailing slash); write /prefix/... for a prefix", s)
		}
	}
	if strings.ContainsAny(p, "?#") {
		return r, fmt.Errorf("route %q: a route is a path, without a query or fragment", s)
	}
	r.Path = p
	return r, nil
}

// checkHost refuses what cannot be a host name or address in a Host header.
func checkHost(h string) error {
	if h == "" {
		return fmt.Errorf("empty host")
	}
	if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
		return fmt.Errorf("host %q has a port: a route names the host only, and answers on every port", h)
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '[' || c == ']' || c == ':') {
			return fmt.Errorf("host %q: %q is not allowed in a host name", h, c)
		}
	}
	return nil
}

// String is the route's text form, as ParseRoute reads it.
func (r Route) String() string {
	s := r.Host + r.Path
	if r.Prefix {
		s += "/..."
	}
	return s
}

// strip is the part of a request's path a static folder does not see: a
// prefix route's path, or an exact route's directory.
func (r Route) strip() string {
	if r.Prefix {
		return r.Path
	}
	return r.Path[:strings.LastIndexByte(r.Path, '/')]
}
