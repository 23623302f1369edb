package wasip2

import (
	"testing"
)

func TestGuestSocketsDenied(t *testing.T) {
	t.Parallel()
	g := loadGuest(t, "sockets", Config{})
	denied := uint8(accessDenied)
	for _, tc := range []struct {
		export string
		arg    any
	}{
		{"tcp", uint8(0)},
		{"tcp", uint8(1)},
		{"udp", uint8(0)},
		{"lookup", "example.com"},
		{"lookup", "localhost"},
	} {
		if got := g.call(tc.export, tc.arg); got != denied {
			t.Errorf("%s(%v) answered %v, want access-denied (%d)", tc.export, tc.arg, got, denied)
		}
	}
}
