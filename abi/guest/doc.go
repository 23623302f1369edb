//go:build wasip1

// Package guest lets an ordinary net/http handler run as a wasmserve guest.
//
// A guest is a Go program built for GOOS=wasip1 GOARCH=wasm with
// -buildmode=c-shared. The host calls the module's _initialize export once,
// then the handle_request export once per HTTP request, using the http-wasm
// HTTP handler ABI (host functions imported from the "http_handler" module).
// This package implements that ABI: for each request it builds an
// *http.Request and an http.ResponseWriter backed by host calls and runs the
// handler registered with Handle.
//
// # Usage
//
// Register the handler from an init function. In a -buildmode=c-shared
// module, _initialize runs package initialization only: main.main is never
// called, so a Handle call placed in main has no effect. main must still
// exist and can be empty.
//
//	//go:build wasip1
//
//	package main
//
//	import (
//		"io"
//		"net/http"
//
//		"github.com/wasmserve/wasmserve/abi/guest"
//	)
//
//	func init() {
//		guest.Handle(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			io.WriteString(w, "hello "+r.URL.Path+"\n")
//		}))
//	}
//
//	func main() {}
//
// Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o app.wasm .
//
// # Requests
//
// The request has Method, URL (parsed from the request URI), RequestURI,
// Proto, ProtoMajor, ProtoMinor, Header, Host (taken from the Host header,
// which is removed from Header as net/http does), RemoteAddr and
// ContentLength (-1 when unknown) set. Its Body reads from the host lazily,
// straight into the caller's buffer, so a large body is streamed rather than
// loaded up front. The Body must not be used after the handler returns.
//
// An instance serves one request at a time, and the SDK reuses the
// *http.Request, its URL, Header map and context, and the ResponseWriter and
// its Header map, for the next request of the instance: allocation is what
// a request costs most in a wasm guest. A handler must not keep them after
// it returns (a goroutine that outlives the handler must take copies:
// r.Clone(ctx), maps.Clone(r.Header)); strings and slices read from them
// are the handler's to keep.
//
// # Responses
//
// The header map and status code are sent to the host at the first Write,
// WriteHeader or Flush, or when the handler returns (with status 200 if
// none was set); later changes to the header map have no effect, as in
// net/http. If the handler never set the Content-Type key, it is sniffed
// from the first non-empty Write, as net/http does. Body bytes are passed to the host as they are
// written, without buffering in the guest; the ResponseWriter also
// implements http.Flusher and io.StringWriter. Informational (1xx) status
// codes are not supported.
//
// # Trailers
//
// Request.Trailer is nil until the body was read to its end; then it holds
// the request trailers, if any (as net/http fills it at the end of the
// body). Response trailers are set as in net/http: with keys prefixed by
// http.TrailerPrefix, or with names announced in the Trailer header before
// the header is sent. The SDK turns the ABI's trailers feature on for a
// request only when it reads or sends trailers. A trailer key set after the
// header went out is found by the map having grown since: a handler that
// also deletes header keys after the header went out must announce its
// trailers in the Trailer header.
//
// # Middleware
//
// A handler registered with HandleMiddleware may call Next to pass the
// request, as the handler left it, to the host's next handler (wasmserve's
// --upstream) and get its response back to read and change. The handler
// then runs on a goroutine of its own, which Next parks while the host
// serves the next handler. See Next.
//
// # Context
//
// The request's context is done once the handler returned. The ABI tells
// the guest nothing of the client or of the host's timeout: an interrupted
// guest is stopped by the host, so the context cannot be cancelled while
// the handler runs, and it has no deadline.
//
// # Configuration and logging
//
// Config returns the bytes the host was given for the guest (wasmserve's
// --guest-config). Log writes to the host's log; NewLogHandler is a
// log/slog handler over it.
//
// A panic in the handler is recovered and logged to the host at
// LogLevelError. If nothing was written yet, the client gets the answer
// the host gives a guest that fails: 500, "500 handler error (request id
// ID)" with the request's X-Request-Id; otherwise the response ends where the handler stopped. The
// module instance stays usable for later requests.
//
// # Outbound HTTP
//
// A guest that imports the package
// github.com/wasmserve/wasmserve/abi/guest/outbound gets http.DefaultTransport
// over wasmserve's wasmserve_http host module, so http.Get and http.Client
// work; the server must allow the origin (--allow-outbound). This package
// does not import that module, so a guest without it runs on any http-wasm
// host.
//
// # Concurrency
//
// The host calls into one instance one request at a time; concurrency comes
// from running several instances. A handler may start goroutines and wait
// for them, but goroutines still running when the handler returns make
// progress only while a later request is being handled, and must not touch
// the ResponseWriter or Request.
package guest
