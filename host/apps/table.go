package apps

import (
	"fmt"
	"path"
	"strings"
)

// Table maps a request's host and path to the app whose route is most
// specific: a route of the request's host before a route of any host; then
// an exact route before a prefix; then the longest prefix. It is read-only
// once made, so any number of requests may match at once.
type Table struct {
	hosts map[string]*paths // routes of one host, by host
	any   paths             // routes of any host
	n     int
}

// paths are the routes of one host, or of any host.
type paths struct {
	exact  map[string]Match
	prefix map[string]Match // by Route.Path: "" is the root prefix "/..."
}

// Match is what a request matched: the app and the route.
type Match struct {
	App   *App
	Route Route
}

// NewTable makes the routing table of apps. A route claimed twice, in two
// apps or in one, is an error that names both.
func NewTable(apps []*App) (*Table, error) {
	t := &Table{hosts: map[string]*paths{}}
	for _, a := range apps {
		for _, r := range a.Routes {
			ps := &t.any
			if r.Host != "" {
				if ps = t.hosts[r.Host]; ps == nil {
					ps = &paths{}
					t.hosts[r.Host] = ps
				}
			}
			m := &ps.exact
			if r.Prefix {
				m = &ps.prefix
			}
			if *m == nil {
				*m = map[string]Match{}
			}
			if prev, ok := (*m)[r.Path]; ok {
				if prev.App == a {
					return nil, fmt.Errorf("app %q lists route %q twice", a.Name, r)
				}
				return nil, fmt.Errorf("route %q is in app %q and in app %q: give each route to one app", r, prev.App.Name, a.Name)
			}
			(*m)[r.Path] = Match{App: a, Route: r}
			t.n++
		}
	}
	return t, nil
}

// Len is the number of routes.
func (t *Table) Len() int { return t.n }

// Match finds the app of a request for host (a Host header: any case, with
// or without a port) and path (the URL's decoded path). The path is matched
// as path.Clean leaves it, so that /a/../b is routed as /b; the app still
// sees the request as it came.
func (t *Table) Match(host, p string) (Match, bool) {
	if needsClean(p) {
		p = path.Clean(p)
	}
	if len(t.hosts) > 0 {
		if ps := t.hosts[hostOnly(host)]; ps != nil {
			if m, ok := ps.match(p); ok {
				return m, true
			}
		}
	}
	return t.any.match(p)
}

func (ps *paths) match(p string) (Match, bool) {
	if m, ok := ps.exact[p]; ok {
		return m, true
	}
	if len(ps.prefix) == 0 {
		return Match{}, false
	}
	for {
		if m, ok := ps.prefix[p]; ok {
			return m, true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return Match{}, false
		}
		p = p[:i]
	}
}

// needsClean reports whether p has a segment path.Clean would change:
// empty (a double slash), "." or "..". A trailing slash is kept: it is no
// way out of a prefix.
func needsClean(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 1; i < len(p); i++ {
		if p[i-1] != '/' {
			continue
		}
		switch {
		case p[i] == '/':
			return true
		case p[i] == '.':
			rest := p[i+1:]
			if rest == "" || rest[0] == '/' || rest == "." || strings.HasPrefix(rest, "./") {
				return true
			}
		}
	}
	return false
}

// hostOnly is a Host header's host in lower case, without its port. It
// allocates only for a host with upper-case letters.
func hostOnly(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			h = h[:i+1]
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	for i := 0; i < len(h); i++ {
		if 'A' <= h[i] && h[i] <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}
