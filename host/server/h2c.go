package server

import (
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// h2cUpgrade serves HTTP/1.1 requests carrying "Upgrade: h2c" (RFC 7540
// §3.2) as HTTP/2 and passes every other request to next. net/http does
// not implement the upgrade, only prior knowledge.
//
// An upgrade request with a body is served as HTTP/1.1 instead: x/net's
// h2c reads the whole body into memory before the upgrade, ahead of the
// handler's body limit, so a client could make the server hold any amount.
// RFC 9110 §7.8 lets a server ignore Upgrade.
func h2cUpgrade(next http.Handler, idle time.Duration) http.Handler {
	upgrade := h2c.NewHandler(next, &http2.Server{IdleTimeout: idle})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && r.ContentLength != 0 && asksH2C(r.Header) {
			dropH2CUpgrade(r.Header)
			next.ServeHTTP(w, r)
			return
		}
		upgrade.ServeHTTP(w, r)
	})
}

// asksH2C reports whether h asks for the h2c upgrade, as x/net's h2c
// decides it: Upgrade lists h2c and Connection lists HTTP2-Settings.
func asksH2C(h http.Header) bool {
	return httpguts.HeaderValuesContainsToken(h["Upgrade"], "h2c") &&
		httpguts.HeaderValuesContainsToken(h["Connection"], "HTTP2-Settings")
}

// dropH2CUpgrade removes an upgrade request's Upgrade and HTTP2-Settings
// headers and the Connection tokens naming them, keeping the other tokens
// (such as close); Connection goes when none is left.
func dropH2CUpgrade(h http.Header) {
	delete(h, "Upgrade")
	delete(h, "Http2-Settings")
	var keep []string
	for _, v := range h["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			tok = strings.TrimSpace(tok)
			if tok != "" && !strings.EqualFold(tok, "upgrade") && !strings.EqualFold(tok, "http2-settings") {
				keep = append(keep, tok)
			}
		}
	}
	if len(keep) == 0 {
		delete(h, "Connection")
		return
	}
	h["Connection"] = []string{strings.Join(keep, ", ")}
}
