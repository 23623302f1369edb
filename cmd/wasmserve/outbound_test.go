package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestOutboundFlags: --allow-outbound lets a guest call an origin, and
// without it the call is refused, logged, and never reaches the origin.
func TestOutboundFlags(t *testing.T) {
	var hits atomic.Int64
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "from the origin")
	}))
	defer o.Close()
	guest := testguest.BuildPackage(t, "host/testdata/outguest")
	fetch := "/fetch?url=" + url.QueryEscape(o.URL+"/x")
	cases := []struct {
		name string
		args []string
		code int
		body string
		log  string
	}{
		{"allowed", []string{"--allow-outbound", o.URL}, 200, "from the origin", ""},
		{"not allowed", nil, 502, "refused", "outbound call refused"},
		{"allowed under another name", []string{"--allow-outbound", strings.Replace(o.URL, "127.0.0.1", "localhost", 1)},
			502, "refused", "matches no allow pattern"},
		{"loopback unblocked", []string{"--allow-outbound", "*", "--block-networks", "none"}, 200, "from the origin", ""},
		{"call cap", []string{"--allow-outbound", o.URL, "--max-outbound-per-request", "1"}, 200, "from the origin", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := hits.Load()
			_, base, stderr := startServer(t, append(append([]string{"--isolates", "1"}, c.args...), guest)...)
			code, body := get(t, base+fetch)
			if code != c.code || !strings.Contains(body, c.body) {
				t.Errorf("got %d %q, want %d with %q", code, body, c.code, c.body)
			}
			if c.log != "" {
				// The log comes through the child's stderr pipe, maybe
				// after the response.
				testguest.WaitFor(t, "the log line "+c.log, func() bool { return strings.Contains(stderr.String(), c.log) })
				for _, line := range strings.Split(stderr.String(), "\n") {
					if strings.Contains(line, "outbound call refused") && !regexp.MustCompile(`request_id=[0-9a-f]{16}\b`).MatchString(line) {
						t.Errorf("the refusal does not name its request:\n%s", line)
					}
				}
				if hits.Load() != before {
					t.Error("a refused call reached the origin")
				}
			}
		})
	}
	if code, body := get(t, func() string {
		_, base, _ := startServer(t, "--isolates", "1", "--allow-outbound", o.URL, "--max-outbound-per-request", "1", guest)
		return base + "/many?n=2&url=" + url.QueryEscape(o.URL)
	}()); code != 502 || !strings.Contains(body, "call 2:") {
		t.Errorf("--max-outbound-per-request 1, two calls: got %d %q", code, body)
	}
}
