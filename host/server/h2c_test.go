package server

import (
	"fmt"
	"net/http"
	"testing"
)

// TestDropH2CUpgrade: the upgrade's headers and Connection tokens go, the
// other tokens stay.
func TestDropH2CUpgrade(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		connection []string
		want       []string // nil: no Connection header left
	}{
		{"only the upgrade", []string{"Upgrade, HTTP2-Settings"}, nil},
		{"close kept", []string{"close, Upgrade, HTTP2-Settings"}, []string{"close"}},
		{"several values", []string{"upgrade", "keep-alive , http2-settings", "X-Hop"}, []string{"keep-alive, X-Hop"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Upgrade": {"h2c"}, "Http2-Settings": {""}, "Connection": c.connection, "X-Other": {"1"}}
			if !asksH2C(h) {
				t.Fatalf("%v does not ask for h2c", h)
			}
			dropH2CUpgrade(h)
			if _, ok := h["Upgrade"]; ok {
				t.Errorf("Upgrade left: %v", h)
			}
			if _, ok := h["Http2-Settings"]; ok {
				t.Errorf("HTTP2-Settings left: %v", h)
			}
			if got := h["Connection"]; fmt.Sprint(got) != fmt.Sprint(c.want) || (got == nil) != (c.want == nil) {
				t.Errorf("Connection %q, want %q", got, c.want)
			}
			if h.Get("X-Other") != "1" {
				t.Errorf("other header lost: %v", h)
			}
		})
	}
}
