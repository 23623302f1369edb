//go:build wasip1

package guest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/wasmserve/wasmserve/abi"
)

// handler serves every request. It is set by Handle, normally from an init
// function.
var handler http.Handler

// Handle registers h to serve every request the host sends to this module.
// A nil h means http.DefaultServeMux, as in net/http.
//
// Call Handle from an init function (or a package-level variable
// initializer): a module built with -buildmode=c-shared runs only package
// initialization when the host calls _initialize, never main.main. Calling
// Handle again replaces the handler for later requests.
func Handle(h http.Handler) {
	if h == nil {
		h = http.DefaultServeMux
	}
	handler = h
}

// HandleFunc registers f to serve every request; see Handle.
func HandleFunc(f func(http.ResponseWriter, *http.Request)) {
	Handle(http.HandlerFunc(f))
}

// handlerRegistered tells the host, once the module started, whether a
// handler is registered: a module whose Handle call sits in main, which a
// -buildmode=c-shared module never runs, is then refused as it starts
// rather than answering every request 500.
//
//go:wasmexport wasmserve_handler_registered
func handlerRegistered() uint32 {
	if handler == nil {
		return 0
	}
	return 1
}

// handleRequest is called by the host once per request. The handler
// produces the response itself (next=0), unless, registered with
// HandleMiddleware, it calls Next (next=1). The request context is always
// 0: an instance serves one request at a time.
//
//go:wasmexport handle_request
func handleRequest() uint64 {
	if middleware {
		return abi.EncodeHandleRequest(0, serveMiddleware())
	}
	serve(nil)
	return abi.EncodeHandleRequest(0, false)
}

// handleResponse is called by the host after the next handler answered
// (and, the host permitting, after any response). In middleware mode it
// resumes the handler waiting in Next; otherwise there is nothing to do.
//
//go:wasmexport handle_response
func handleResponse(reqCtx uint32, isError uint32) {
	if middleware {
		resumeMiddleware(isError != 0)
	}
}

// serve runs the registered handler for the current request; ex is the
// exchange of middleware mode, or nil.
func serve(ex *exchange) {
	sl := &reqSlot
	if sl.whdr == nil {
		sl.whdr = make(http.Header, 4)
	}
	if len(sl.whdr) > 0 {
		clear(sl.whdr)
	}
	sl.w = responseWriter{header: sl.whdr}
	w := &sl.w
	var body *requestBody
	var ctx *requestContext
	defer func() {
		if body != nil {
			body.closed = true
		}
		if p := recover(); p != nil {
			recovered(w, p)
		}
		w.finish()
		if ctx != nil {
			ctx.cancel()
		}
	}()

	h := handler
	if h == nil {
		Log(LogLevelError, "guest: no handler registered: call guest.Handle from an init function (main is not run in a -buildmode=c-shared module)")
		sendError(w, http.StatusInternalServerError)
		return
	}
	r, ctx, err := buildRequest()
	if err != nil {
		if LogEnabled(LogLevelDebug) {
			Log(LogLevelDebug, "guest: bad request: "+err.Error())
		}
		sendError(w, http.StatusBadRequest)
		return
	}
	body, _ = r.Body.(*requestBody)
	if ex != nil {
		ex.method, ex.target, ex.host, ex.body = r.Method, r.URL.RequestURI(), r.Host, r.Body
	}
	h.ServeHTTP(w, r)
}

// recovered handles a panic from the handler: it logs it (except for
// http.ErrAbortHandler, which net/http also keeps quiet) and answers 500
// when the response has not started yet.
func recovered(w *responseWriter, p any) {
	if err, ok := p.(error); !ok || !errors.Is(err, http.ErrAbortHandler) {
		Log(LogLevelError, fmt.Sprintf("guest: panic serving request: %v\n%s", p, debug.Stack()))
	}
	if !w.wroteHeader {
		// As the host answers a guest that fails: the status, and the
		// request id that finds the log line (the panic's, above).
		clear(w.header)
		w.header.Set("Content-Type", "text/plain; charset=utf-8")
		w.header.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusInternalServerError)
		msg := "500 handler error"
		if id := requestID(); id != "" {
			msg += " (request id " + id + ")"
		}
		w.WriteString(msg + "\n")
	}
}

// requestID is the id the server gave the request being served (its
// X-Request-Id header, at most 128 bytes), or "" without one.
func requestID() string {
	var buf [160]byte
	count, n := abi.DecodeCountLen(getHeaderValues(abi.HeaderKindRequest, "X-Request-Id", &buf[0], uint32(len(buf))))
	if count == 0 || n > uint32(len(buf)) {
		return ""
	}
	v := buf[:n]
	if i := bytes.IndexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	return string(v)
}

// sendError answers with a plain-text status response, discarding any
// headers the handler had set.
func sendError(w *responseWriter, code int) {
	clear(w.header)
	w.header.Set("Content-Type", "text/plain; charset=utf-8")
	w.header.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.WriteString(http.StatusText(code) + "\n")
}
