package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestGoReactorWithoutHandler: a Go guest that registers its handler in
// main, which a -buildmode=c-shared module never runs, is refused as it
// starts, by serve and by check, with what to do, instead of starting and
// answering every request 500.
func TestGoReactorWithoutHandler(t *testing.T) {
	guest := testguest.BuildPackage(t, "cmd/wasmserve/testdata/gonohandler")
	const want = "registered no handler: call guest.Handle from an init function, not from main"
	for _, args := range [][]string{
		{"serve", "--port", "0", "--no-cache", guest},
		{"check", guest},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, stdout, stderr := runIn(t, t.TempDir(), nil, args...)
			if code != 1 || !strings.Contains(stdout+stderr, want) {
				t.Errorf("exit %d, want 1 and %q; output:\n%s%s", code, want, stdout, stderr)
			}
			if strings.Contains(stderr, "listening on") {
				t.Errorf("serve started:\n%s", stderr)
			}
		})
	}
}

// TestGoGuestWithoutTransport: a Go guest's http.Get without the blank
// import of abi/guest/outbound fails with an error that names the import
// and the flag, not net/http's "connection refused".
func TestGoGuestWithoutTransport(t *testing.T) {
	guest := testguest.BuildPackage(t, "cmd/wasmserve/testdata/gonotransport")
	_, base, _ := startServer(t, "--isolates", "1", guest)
	code, body := get(t, base+"/?url="+url.QueryEscape("http://127.0.0.1:9/x"))
	want := `add import _ "github.com/wasmserve/wasmserve/abi/guest/outbound" to the guest, and allow http://127.0.0.1:9 with --allow-outbound`
	if code != 502 || !strings.Contains(body, want) {
		t.Errorf("got %d %q, want 502 and %q", code, body, want)
	}
}
