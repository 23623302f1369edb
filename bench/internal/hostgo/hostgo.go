// Package hostgo serves an http-wasm guest through
// github.com/http-wasm/http-wasm-host-go, the reference host of the ABI, as
// that library serves it by default: its net/http middleware, one wazero
// runtime of its own making (no compilation cache), its pool of instances.
// It is the "same guest, other host" baseline of the benchmarks, so it adds
// nothing the library does not offer.
package hostgo

import (
	"context"
	"fmt"
	"net/http"

	wasm "github.com/http-wasm/http-wasm-host-go/handler/nethttp"
)

// Handler is a guest served by http-wasm-host-go's middleware in front of
// a next handler that answers 404, so that a guest that hands a request on
// (or a wrong set-up) shows as a 404 rather than as a hello.
type Handler struct {
	http.Handler
	mw wasm.Middleware
}

// New compiles guest with the library's defaults and returns its handler.
func New(ctx context.Context, guest []byte) (*Handler, error) {
	mw, err := wasm.NewMiddleware(ctx, guest)
	if err != nil {
		return nil, fmt.Errorf("http-wasm-host-go middleware: %w", err)
	}
	return &Handler{Handler: mw.NewHandler(ctx, http.NotFoundHandler()), mw: mw}, nil
}

// Close closes the middleware and its wazero runtime.
func (h *Handler) Close(ctx context.Context) error {
	return h.mw.Close(ctx)
}
