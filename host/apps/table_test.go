package apps

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseRoute(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Route
		err  string
	}{
		{in: "/exact", want: Route{Path: "/exact"}},
		{in: "/", want: Route{Path: "/"}},
		{in: "/...", want: Route{Path: "", Prefix: true}},
		{in: "/hello/...", want: Route{Path: "/hello", Prefix: true}},
		{in: "Example.COM/...", want: Route{Host: "example.com", Prefix: true}},
		{in: "api.example.com/v1/users", want: Route{Host: "api.example.com", Path: "/v1/users"}},
		{in: "api.example.com/v1/...", want: Route{Host: "api.example.com", Path: "/v1", Prefix: true}},
		{in: "", err: "empty"},
		{in: "example.com", err: "no path"},
		{in: "example.com:8080/...", err: "has a port"},
		{in: "/a...", err: "only ends a prefix"},
		{in: "/a/.../b", err: "only ends a prefix"},
		{in: "/a//b", err: "empty path segment"},
		{in: "/a/", err: "empty path segment"},
		{in: "/a/../b", err: "may not be . or .."},
		{in: "/a?x=1", err: "without a query"},
		{in: "ex ample.com/", err: "not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRoute(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseRoute(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseRoute(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if again, err := ParseRoute(got.String()); err != nil || again != got {
				t.Fatalf("String %q does not parse back: %+v, %v", got.String(), again, err)
			}
		})
	}
}

func mustRoutes(t testing.TB, rs ...string) []Route {
	t.Helper()
	var out []Route
	for _, s := range rs {
		r, err := ParseRoute(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestTableMatch(t *testing.T) {
	t.Parallel()
	apps := []*App{
		{Name: "root", Routes: mustRoutes(t, "/...")},
		{Name: "hello", Routes: mustRoutes(t, "/hello/...")},
		{Name: "hello-exact", Routes: mustRoutes(t, "/hello/exact")},
		{Name: "deep", Routes: mustRoutes(t, "/hello/deep/...")},
		{Name: "host", Routes: mustRoutes(t, "api.example.com/...")},
		{Name: "host-path", Routes: mustRoutes(t, "api.example.com/v2/...")},
		{Name: "favicon", Routes: mustRoutes(t, "/favicon.ico")},
	}
	tab, err := NewTable(apps)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ host, path, want string }{
		{"localhost:8080", "/", "root"},
		{"localhost", "/other", "root"},
		{"localhost", "/hello", "hello"},
		{"localhost", "/hello/", "hello"},
		{"localhost", "/hello/x", "hello"},
		{"localhost", "/helloworld", "root"},
		{"localhost", "/hello/exact", "hello-exact"},
		{"localhost", "/hello/exact/more", "hello"},
		{"localhost", "/hello/deep", "deep"},
		{"localhost", "/hello/deep/er", "deep"},
		{"localhost", "/favicon.ico", "favicon"},
		{"api.example.com", "/favicon.ico", "host"},
		{"API.Example.com:443", "/v2/x", "host-path"},
		{"api.example.com", "/v2", "host-path"},
		{"api.example.com", "/v3", "host"},
		{"localhost", "/x/../hello/deep/y", "deep"},
		{"localhost", "//hello//x", "hello"},
		{"localhost", "/hello/./exact", "hello-exact"},
	}
	for _, tc := range cases {
		t.Run(tc.host+tc.path, func(t *testing.T) {
			m, ok := tab.Match(tc.host, tc.path)
			if !ok || m.App.Name != tc.want {
				t.Fatalf("Match(%q, %q) = %v %v, want %s", tc.host, tc.path, m.App, ok, tc.want)
			}
		})
	}
	none, _ := NewTable([]*App{{Name: "a", Routes: mustRoutes(t, "/a/...", "h.example/x")}})
	for _, p := range []string{"/", "/b", "/ab", "*", "/x"} {
		if m, ok := none.Match("localhost", p); ok {
			t.Errorf("Match(%q) = %s, want no app", p, m.App.Name)
		}
	}
}

func TestTableConflicts(t *testing.T) {
	t.Parallel()
	_, err := NewTable([]*App{
		{Name: "one", Routes: mustRoutes(t, "/a/...")},
		{Name: "two", Routes: mustRoutes(t, "/b", "/a/...")},
	})
	if err == nil || !strings.Contains(err.Error(), `"one"`) || !strings.Contains(err.Error(), `"two"`) {
		t.Fatalf("a route in two apps: %v, want an error naming both", err)
	}
	_, err = NewTable([]*App{{Name: "one", Routes: mustRoutes(t, "/a", "/a")}})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("a route twice in one app: %v", err)
	}
	// The same path as exact and as prefix, or on two hosts, is no conflict.
	if _, err := NewTable([]*App{
		{Name: "one", Routes: mustRoutes(t, "/a", "x.example/a")},
		{Name: "two", Routes: mustRoutes(t, "/a/...", "y.example/a")},
	}); err != nil {
		t.Fatal(err)
	}
}

// benchTable is a table of 1,000 routes: a tenth host routes, the rest a
// mix of exact routes and prefixes two and three segments deep.
func benchTable(b *testing.B) *Table {
	var apps []*App
	for i := range 1000 {
		var r string
		switch i % 10 {
		case 0:
			r = fmt.Sprintf("host%d.example.com/...", i)
		case 1, 2, 3:
			r = fmt.Sprintf("/svc%d/v1/items", i)
		default:
			r = fmt.Sprintf("/svc%d/api/...", i)
		}
		apps = append(apps, &App{Name: fmt.Sprint("app", i), Routes: mustRoutes(b, r)})
	}
	t, err := NewTable(apps)
	if err != nil {
		b.Fatal(err)
	}
	if t.Len() != 1000 {
		b.Fatalf("%d routes", t.Len())
	}
	return t
}

// BenchmarkTableMatch matches requests against 1,000 routes: a deep path
// under a prefix, an exact path, a host route, and a path no route has
// (the worst case: every level of the path looked up). Target: ≤ 1 µs.
func BenchmarkTableMatch(b *testing.B) {
	t := benchTable(b)
	for _, bc := range []struct{ name, host, path, want string }{
		{"prefix", "localhost:8080", "/svc555/api/users/42/orders", "app555"},
		{"exact", "localhost", "/svc552/v1/items", "app552"},
		{"host", "host990.example.com", "/any/path/here", "app990"},
		{"miss", "localhost", "/nothing/here/at/all/x", ""},
		{"unclean", "localhost", "/svc555/api/../api//users", "app555"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, ok := t.Match(bc.host, bc.path)
			if got := ""; ok {
				got = m.App.Name
				if got != bc.want {
					b.Fatalf("matched %s, want %s", got, bc.want)
				}
			} else if bc.want != "" {
				b.Fatalf("no match, want %s", bc.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				t.Match(bc.host, bc.path)
			}
		})
	}
}

// TestDocumentedRoutes: the table of examples in README.md's "Many apps in
// one server".
func TestDocumentedRoutes(t *testing.T) {
	t.Parallel()
	tab, err := NewTable([]*App{
		{Name: "site", Routes: mustRoutes(t, "/...")},
		{Name: "api", Routes: mustRoutes(t, "/api/...")},
		{Name: "health", Routes: mustRoutes(t, "/api/health")},
		{Name: "admin", Routes: mustRoutes(t, "admin.example.com/...")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ host, path, want string }{
		{"localhost", "/", "site"},
		{"localhost", "/api", "api"},
		{"localhost", "/api/users/7", "api"},
		{"localhost", "/api/health", "health"},
		{"localhost", "/api/health/deep", "api"},
		{"localhost", "/apix", "site"},
		{"localhost", "/api/../admin", "site"},
		{"admin.example.com:8443", "/api/users", "admin"},
	} {
		if m, ok := tab.Match(tc.host, tc.path); !ok || m.App.Name != tc.want {
			t.Errorf("%s %s: %v, want %s", tc.host, tc.path, m.App, tc.want)
		}
	}
}
