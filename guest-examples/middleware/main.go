//go:build wasip1

// Command middleware is a wasmserve guest in middleware mode: it sits in
// front of the origin given to wasmserve with --upstream, adds the request
// header X-Edge, passes the request on with guest.Next, then sees and
// changes the origin's response:
//
//   - every response gets X-Edge-Upstream-Status with the origin's status;
//   - /shout/... answers the origin's body in upper case;
//   - /blocked/... is answered 403 at the edge, without asking the origin;
//   - an unreachable origin gets X-Edge-Error, and the host's 502.
//
// Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o middleware.wasm ./guest-examples/middleware
//
// and serve it with: wasmserve serve --upstream http://127.0.0.1:9000 middleware.wasm
package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/wasmserve/wasmserve/abi/guest"
)

func edge(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/blocked/") {
		http.Error(w, "blocked at the edge", http.StatusForbidden)
		return
	}
	r.Header.Set("X-Edge", "wasmserve")
	resp, err := guest.Next(w, r)
	if err != nil {
		slog.Warn("upstream failed", "path", r.URL.Path, "err", err)
		w.Header().Set("X-Edge-Error", "upstream failed")
		return
	}
	w.Header().Set("X-Edge-Upstream-Status", strconv.Itoa(resp.StatusCode))
	if strings.HasPrefix(r.URL.Path, "/shout/") {
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, "reading the upstream body", http.StatusBadGateway)
			return
		}
		w.Header().Del("Content-Length")
		w.Write(bytes.ToUpper(body))
	}
}

func init() {
	slog.SetDefault(slog.New(guest.NewLogHandler(nil)))
	guest.HandleMiddleware(http.HandlerFunc(edge))
}

func main() {}
