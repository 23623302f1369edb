//go:build wasip1

// Command sdkguest exercises the SDK's middleware mode, trailers, request
// context and slog handler for cmd/wasmserve's TestSDKFeatures, with the
// echo example as its upstream (cases.yaml) or none reachable (down.yaml).
package main

import (
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"

	"github.com/wasmserve/wasmserve/abi/guest"
)

// lastCtxErr is what the goroutine of the last /ctx request saw when its
// context ended (the test runs one isolate).
var lastCtxErr = "not yet"

func handler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/ctx":
		ctx := r.Context()
		lastCtxErr = "waiting"
		go func() {
			<-ctx.Done()
			lastCtxErr = ctx.Err().Error()
		}()
		if ctx.Err() != nil {
			http.Error(w, "context done while the handler runs", 500)
			return
		}
		io.WriteString(w, "started\n")
	case "/ctx-check":
		for range 10 {
			runtime.Gosched() // let the goroutine of /ctx run
		}
		io.WriteString(w, lastCtxErr)
	case "/replace-body":
		r.Body = io.NopCloser(strings.NewReader("replaced"))
		r.Method = http.MethodPut
		r.URL.RawQuery = "by=sdk"
		guest.Next(w, r)
	case "/twice":
		guest.Next(w, r)
		_, err := guest.Next(w, r)
		w.Header().Set("X-Second-Next", err.Error())
	case "/status-after-next":
		resp, err := guest.Next(w, r)
		if err == nil {
			w.Header().Set("X-Upstream-Status", strconv.Itoa(resp.StatusCode))
			w.Header().Del("Content-Type")
			w.WriteHeader(http.StatusNonAuthoritativeInfo)
		}
	case "/down":
		if _, err := guest.Next(w, r); err != nil {
			w.Header().Set("X-Edge-Error", err.Error())
		}
	case "/declared-trailer":
		w.Header().Set("Trailer", "X-Late")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "body\n")
		w.Header().Set("X-Late", "v")
	case "/panic":
		w.Header().Set("X-Half-Done", "1") // dropped: the error answer replaces it
		panic("boom")
	case "/slog":
		slog.Default().With("k", "v").WithGroup("g").Info("sdk-slog", "n", 1)
		slog.Debug("sdk-debug-not-logged")
		io.WriteString(w, "logged\n")
	default:
		http.NotFound(w, r)
	}
}

func init() {
	slog.SetDefault(slog.New(guest.NewLogHandler(nil)))
	guest.HandleMiddleware(http.HandlerFunc(handler))
}

func main() {}
