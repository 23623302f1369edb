package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestPercentEncodeRoundTrips(t *testing.T) {
	in := string(readAll(t, committed.ClientCert)) + " +/=%~"
	enc := percentEncode([]byte(in))
	if strings.ContainsAny(enc, " \n+/=") {
		t.Errorf("encoded value holds reserved bytes: %q", enc)
	}
	for name, unescape := range map[string]func(string) (string, error){"query": url.QueryUnescape, "path": url.PathUnescape} {
		if got, err := unescape(enc); err != nil || got != in {
			t.Errorf("%s unescape: %q, %v", name, got, err)
		}
	}
}

// TestClientCertHeadersStripped: without TLS, forged client certificate
// headers are removed however the client spells their names, since
// net/http hands them over canonical; the names themselves must be
// canonical for the plain delete that removes them.
func TestClientCertHeadersStripped(t *testing.T) {
	for _, name := range []string{HeaderClientCertSubject, HeaderClientCert} {
		if c := http.CanonicalHeaderKey(name); c != name {
			t.Fatalf("header name %q is not canonical (%q): a plain delete would miss it", name, c)
		}
	}
	seen := make(chan http.Header, 1)
	srv := httptest.NewServer(clientCertHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
	})))
	defer srv.Close()
	cases := []struct{ name, subject, cert string }{
		{"canonical", "X-Client-Cert-Subject", "X-Client-Cert"},
		{"lower case", "x-client-cert-subject", "x-client-cert"},
		{"upper case", "X-CLIENT-CERT-SUBJECT", "X-CLIENT-CERT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			// Raw keys: the client sends them spelt as they are.
			req.Header[c.subject] = []string{"CN=admin"}
			req.Header[c.cert] = []string{"forged"}
			req.Header["X-Other"] = []string{"kept"}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := <-seen
			for k := range h {
				if strings.EqualFold(k, HeaderClientCertSubject) || strings.EqualFold(k, HeaderClientCert) {
					t.Errorf("forged header %q reached the handler", k)
				}
			}
			if h.Get("X-Other") != "kept" {
				t.Errorf("another header was removed too: %v", h)
			}
		})
	}
}

// BenchmarkClientCertHeaders is clientCertHeaders around a handler that
// does nothing, for a browser's headers, which have no '_', and for the
// same with one name that has.
func BenchmarkClientCertHeaders(b *testing.B) {
	browser := http.Header{
		"Host":            {"example.com"},
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
		"Accept":          {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		"Accept-Language": {"en-US,en;q=0.5"},
		"Accept-Encoding": {"gzip, deflate, br, zstd"},
		"Cookie":          {"session=0123456789abcdef"},
		"Cache-Control":   {"no-cache"},
		"Authorization":   {"Bearer abc"},
		"X-Request-Id":    {"6f1c2a9d00000001"},
	}
	h := clientCertHeaders(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, c := range []struct {
		name  string
		extra string
	}{{"no underscore", ""}, {"an underscore name", "X_Request_Note"}} {
		b.Run(c.name, func(b *testing.B) {
			r, _ := http.NewRequest("GET", "http://example.com/", nil)
			r.Header = browser.Clone()
			if c.extra != "" {
				r.Header[c.extra] = []string{"x"}
			}
			b.ReportAllocs()
			for range b.N {
				h.ServeHTTP(nil, r)
			}
		})
	}
}
