package outbound

import (
	"net/url"
	"strings"
	"testing"
)

func TestOutboundPatternErrors(t *testing.T) {
	for _, bad := range []string{"", "api.example.com", "ftp://x", "https://x/path", "https://x:0", "https://x:99999", "https://a*b.example.com", "https://"} {
		if err := ParsePattern(bad); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
	// The extension is made before any handler (it was NewHandler's
	// error when the host made it): it names the bad pattern.
	if _, err := New(Config{Allow: []string{"https://ok.example", "gopher://x"}}, nil); err == nil || !strings.Contains(err.Error(), `"gopher://x"`) {
		t.Errorf("New with a bad pattern: %v, want an error naming it", err)
	}
}

func TestOutboundPatternMatch(t *testing.T) {
	cases := []struct {
		pattern, url string
		want         bool
	}{
		{"https://api.example.com", "https://api.example.com/v1", true},
		{"https://api.example.com", "https://API.Example.com./v1", true},
		{"https://api.example.com", "https://api.example.com:443/", true},
		{"https://api.example.com", "https://api.example.com:8443/", false},
		{"https://api.example.com", "http://api.example.com/", false},
		{"https://api.example.com", "https://evil-api.example.com/", false},
		{"https://api.example.com", "https://api.example.com.evil.test/", false},
		{"https://*.example.com:8443", "https://a.b.example.com:8443/", true},
		{"https://*.example.com:8443", "https://example.com:8443/", false},
		{"https://*.example.com:8443", "https://badexample.com:8443/", false},
		{"https://*.example.com:8443", "https://a.example.com/", false},
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000/x", true},
		{"http://127.0.0.1:9000", "http://127.0.0.2:9000/x", false},
		{"http://[::1]:9000", "http://[::1]:9000/", true},
		{"http://[::1]", "http://[::1]/", true},
		{"http://[::ffff:127.0.0.1]:80", "http://127.0.0.1/", true},
		{"https://api.example.com:*", "https://api.example.com:1234/", true},
		{"https://*", "https://anything.test/", true},
		{"https://*", "https://anything.test:8443/", false},
		{"*", "http://anything.test:1/", true},
	}
	for _, c := range cases {
		t.Run(c.pattern+" "+c.url, func(t *testing.T) {
			p, err := parseOriginPattern(c.pattern)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(c.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.matchURL(u); got != c.want {
				t.Errorf("match = %v, want %v", got, c.want)
			}
		})
	}
}
