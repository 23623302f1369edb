package guest

import (
	"net/url"
	"testing"
)

// sameURL fails unless the fast path and net/url agree on s.
func sameURL(t *testing.T, s string) {
	t.Helper()
	got, gerr := parseRequestURI(s, new(url.URL))
	want, werr := url.ParseRequestURI(s)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("%q: error %v, net/url says %v", s, gerr, werr)
	}
	if werr != nil {
		return
	}
	if got.User.String() != want.User.String() {
		t.Fatalf("%q: user %q, net/url gives %q", s, got.User, want.User)
	}
	g, w := *got, *want
	g.User, w.User = nil, nil // compared by value above
	if g != w {
		t.Fatalf("%q: got %#v, net/url gives %#v", s, got, want)
	}
}

func TestParseRequestURI(t *testing.T) {
	cases := []struct{ name, uri string }{
		{"root", "/"},
		{"path", "/a/b/c"},
		{"query", "/a?x=1&y=2"},
		{"empty query", "/a?"},
		{"double slash", "//host-like/path"},
		{"escapes take the slow path", "/a%20b/%2F?q=%41"},
		{"fragment takes the slow path", "/a#frag"},
		{"asterisk", "*"},
		{"absolute form", "http://example.com/x?y"},
		{"empty", ""},
		{"relative", "a/b"},
		{"semicolon and plus", "/a;b+c?d;e"},
		{"unicode takes the slow path", "/ä"},
		{"space is an error either way", "/a b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { sameURL(t, c.uri) })
	}
}

func FuzzParseRequestURI(f *testing.F) {
	for _, s := range []string{"/", "/a?b", "/%41", "//x", "/a#b", "*", "http://h/p"} {
		f.Add(s)
	}
	f.Fuzz(sameURL)
}
