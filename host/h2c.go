package host

import (
	"net/http"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// h2cUpgrade serves HTTP/1.1 requests carrying "Upgrade: h2c" (RFC 7540
// §3.2) as HTTP/2 and passes every other request to next. net/http does
// not implement the upgrade, only prior knowledge.
func h2cUpgrade(next http.Handler, idle time.Duration) http.Handler {
	return h2c.NewHandler(next, &http2.Server{IdleTimeout: idle})
}
