//go:build wasip1

// Command router is the conformance router (conformance/README.md) in Go:
// an http.ServeMux with several routes and a 404, served through the SDK,
// answering conformance/cases.yaml like the C, Rust, AssemblyScript and WAT
// routers beside it.
//
// Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o router.wasm ./guest-examples/router
package main

import (
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/wasmserve/wasmserve/abi/guest"
)

const text = "text/plain; charset=utf-8"

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", text)
		io.WriteString(w, "hello\n")
	})
	mux.HandleFunc("/request", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Method", r.Method)
		h.Set("X-Uri", r.RequestURI)
		h.Set("X-Protocol", r.Proto)
		h.Set("X-Source-Addr", r.RemoteAddr)
		h.Set("Content-Type", text)
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/headers", headers)
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Status-Read", "yes")
		w.Header().Set("Content-Type", text)
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "teapot\n")
	})
	mux.HandleFunc("/config", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", text)
		w.Write(guest.Config())
	})
	mux.HandleFunc("/log", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		slog.InfoContext(ctx, "conformance: hello from the guest", "path", r.URL.Path)
		w.Header().Set("X-Log-Enabled", yesNo(slog.Default().Enabled(ctx, slog.LevelInfo)))
		w.Header().Set("X-Log-Debug", yesNo(slog.Default().Enabled(ctx, slog.LevelDebug)))
		w.Header().Set("Content-Type", text)
		io.WriteString(w, "logged\n")
	})
	mux.HandleFunc("/rewrite", func(w http.ResponseWriter, r *http.Request) {
		// The rewrite only reaches the host when the request goes on
		// with guest.Next (see the middleware example); here it is
		// shown back.
		r.Method = http.MethodPut
		r.URL.Path, r.URL.RawQuery = "/rewritten", "by=guest"
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Uri", r.URL.RequestURI())
		w.Header().Set("Content-Type", text)
		io.WriteString(w, "rewritten\n")
	})
	mux.HandleFunc("/trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Trailers", "on")
		w.Header().Set("Content-Type", text)
		io.Copy(w, r.Body) // Request.Trailer is filled at the end of the body
		if sum := r.Trailer.Get("X-Checksum"); sum != "" {
			w.Header().Set(http.TrailerPrefix+"X-Checksum-Echo", sum)
		}
		w.Header().Set(http.TrailerPrefix+"X-Trailer", "done")
	})
	mux.HandleFunc("/next", func(w http.ResponseWriter, r *http.Request) {
		// Without --upstream the host answers 404; the response passes
		// on unchanged.
		if _, err := guest.Next(w, r); err != nil {
			slog.Error("next", "err", err)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", text)
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "not found\n")
	})
	return mux
}

// headers lists the request headers after changing them, and sets, adds
// and removes response headers.
func headers(w http.ResponseWriter, r *http.Request) {
	r.Header.Del("X-Drop")
	r.Header.Set("X-Set-By-Guest", "yes")
	r.Header.Add("X-Multi", "three")
	h := w.Header()
	h.Set("X-Set", "one")
	h.Add("X-Add", "a")
	h.Add("X-Add", "b")
	h.Set("X-Removed", "gone")
	h.Del("X-Removed")
	h.Set("Content-Type", text)
	var b strings.Builder
	b.WriteString("host: " + r.Host + "\n")
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range r.Header {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range r.Header[k] {
			b.WriteString(strings.ToLower(k) + ": " + v + "\n")
		}
	}
	io.WriteString(w, b.String())
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func init() {
	slog.SetDefault(slog.New(guest.NewLogHandler(nil)))
	guest.HandleMiddleware(newMux())
}

func main() {}
