//go:build wasip1

package guest

import (
	"fmt"
	"net/http"
)

// noTransport is http.DefaultTransport until the outbound package replaces
// it: a guest has no sockets, so net/http's own transport could only fail
// with a "connection refused" that names neither the cause nor the fix.
type noTransport struct{}

// RoundTrip refuses req, saying which import makes outbound calls work.
func (noTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, fmt.Errorf("a wasmserve guest makes outbound HTTP calls through the host: "+
		"add import _ %q to the guest, and allow %s with --allow-outbound", "github.com/wasmserve/wasmserve/abi/guest/outbound",
		req.URL.Scheme+"://"+req.URL.Host)
}

func init() {
	// Unless the outbound package already installed its transport.
	if _, std := http.DefaultTransport.(*http.Transport); std {
		http.DefaultTransport = noTransport{}
	}
}
