package httpwasm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/wasmserve/wasmserve/abi"
)

// DefaultMaxBufferedBody is the bound on a response body held for a guest
// with the buffer_response feature when [Host.MaxBufferedBody] is 0: 10 MiB.
const DefaultMaxBufferedBody = 10 << 20

// errBufferFull is what the buffering writer returns once the next handler's
// response body outgrows the bound.
var errBufferFull = errors.New("response body exceeds the buffer_response limit")

// nextWriter is the ResponseWriter the next handler writes to. It lives in
// the Guest and is reset for every request, so that calling next allocates
// nothing of its own. Without buffer_response it passes everything through
// to the client and records the status; with it, it holds the status and the
// body (the headers go to the client's header map, unsent) until
// handle_response has run.
type nextWriter struct {
	w       http.ResponseWriter
	buffer  bool
	max     int64
	status  int
	wrote   bool // WriteHeader reached the client (pass-through only)
	body    *bytes.Buffer
	err     error // the next handler's failure, reported or recovered
	overrun bool
}

// Header returns the client's header map: the guest sees the next handler's
// headers through it.
func (nw *nextWriter) Header() http.Header { return nw.w.Header() }

// WriteHeader records the status and, passing through, sends it.
func (nw *nextWriter) WriteHeader(code int) {
	if code >= 200 {
		nw.status = code
	}
	if !nw.buffer && !nw.wrote {
		nw.w.WriteHeader(code)
		if code >= 200 {
			nw.wrote = true
		}
	}
}

// Write passes b through or buffers it up to the bound.
func (nw *nextWriter) Write(b []byte) (int, error) {
	if nw.status == 0 {
		nw.WriteHeader(http.StatusOK)
	}
	if !nw.buffer {
		return nw.w.Write(b)
	}
	if int64(nw.body.Len()+len(b)) > nw.max {
		nw.overrun = true
		return 0, errBufferFull
	}
	return nw.body.Write(b)
}

// FlushError flushes the client connection when passing through; buffered
// output is flushed after handle_response.
func (nw *nextWriter) FlushError() error {
	if nw.buffer {
		return nil
	}
	if nw.status == 0 {
		nw.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(nw.w).Flush()
}

// Unwrap gives http.ResponseController the client's writer when passing
// through (for Hijack on protocol upgrades, and deadlines); a buffered
// response has none to offer.
func (nw *nextWriter) Unwrap() http.ResponseWriter {
	if nw.buffer {
		return nil
	}
	return nw.w
}

// Flush is FlushError for callers that only know http.Flusher.
func (nw *nextWriter) Flush() { nw.FlushError() }

// ReportNextError tells the guest's host, from inside [Host.Next], that the
// next handler failed (an unreachable upstream, for one) after or instead of
// writing its error response to w: handle_response then gets is_error=1. It
// does nothing when w is not the writer the host passed to Next.
func ReportNextError(w http.ResponseWriter, err error) {
	if nw, ok := w.(*nextWriter); ok && nw.err == nil {
		if err == nil {
			err = errors.New("next handler failed")
		}
		nw.err = err
	}
}

// callNext hands the request, as the guest left it, to the host's next
// handler and records its response for handle_response. It reports whether
// the next handler failed.
func (g *Guest) callNext() (failed bool) {
	ex := &g.ex
	ex.phase = phaseResponse
	ex.framing = true // the next handler's headers come in
	if ex.bodyErr != nil && ex.reqBodyOut == nil {
		return true // never pass a truncated client body on
	}
	r := ex.r
	switch {
	case ex.reqBodyOut != nil:
		r.Body = io.NopCloser(bytes.NewReader(ex.reqBodyOut.Bytes()))
		r.ContentLength = int64(ex.reqBodyOut.Len())
		r.Header.Set("Content-Length", strconv.Itoa(ex.reqBodyOut.Len()))
		r.TransferEncoding = nil
	case ex.reqTee != nil && ex.reqTee.Len() > 0:
		// buffer_request: what the guest read goes first, then the rest.
		rest := r.Body
		if ex.reqEOF {
			rest = http.NoBody
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(ex.reqTee.Bytes()), rest), r.Body}
	}
	next := g.host.Next
	if next == nil {
		next = http.NotFoundHandler()
	}
	nw := &g.nw
	*nw = nextWriter{w: ex.w, body: g.nw.body}
	if ex.features.Has(abi.FeatureBufferResponse) {
		nw.buffer = true
		nw.max = g.host.maxBufferedBody()
		if nw.body == nil {
			nw.body = new(bytes.Buffer)
		}
		nw.body.Reset()
		if ex.held != nil {
			// What the guest wrote stays in front of next's body,
			// as with any writer both write to.
			nw.body.Write(ex.held.Bytes())
			ex.held.Reset()
		}
	} else {
		if ex.held != nil && ex.held.Len() > 0 {
			g.flushHeld()
			nw.wrote = true
		}
		ex.committed = true
	}
	g.serveNext(next, nw, r)

	if nw.status == 0 {
		nw.status = http.StatusOK
	}
	ex.status = nw.status
	if nw.overrun {
		g.host.logf(r, g.ID, "response of the next handler exceeds the buffer_response limit; answering 502",
			"limit", nw.max)
		ex.status = http.StatusBadGateway
		nw.body.Reset()
		nw.err = errBufferFull
	}
	if nw.buffer {
		ex.buffered = true
		ex.respBody = nw.body
		ex.respTrailer = takeTrailers(ex.w.Header(), true)
		ex.w.Header().Del("Content-Length")
	} else if ex.features.Has(abi.FeatureTrailers) {
		ex.respTrailer = takeTrailers(ex.w.Header(), false)
	}
	return nw.err != nil
}

// serveNext runs the next handler, turning a panic into a failure of next:
// the isolate must reach handle_response and be released either way.
func (g *Guest) serveNext(next http.Handler, nw *nextWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			err, ok := p.(error)
			if !ok {
				err = fmt.Errorf("next handler panicked: %v", p)
			}
			if nw.err == nil {
				nw.err = err
			}
			if !errors.Is(err, http.ErrAbortHandler) {
				g.host.logf(r, g.ID, "next handler panicked", "err", err)
			}
			if !nw.wrote && !nw.buffer {
				nw.w.WriteHeader(http.StatusBadGateway)
				nw.wrote, nw.status = true, http.StatusBadGateway
			} else if nw.buffer {
				// A partial response is no response: the guest
				// sees a 502 with is_error=1.
				nw.status = http.StatusBadGateway
				nw.body.Reset()
			}
			g.ex.nextAborted = nw.wrote && errors.Is(err, http.ErrAbortHandler)
		}
	}()
	next.ServeHTTP(nw, r)
}

// takeTrailers collects the trailers a handler set in h: the names announced
// in the Trailer header and any "Trailer:"-prefixed ones. With move they are
// taken out of h (the buffered response sends them itself); otherwise h is
// left alone and a copy is returned.
func takeTrailers(h http.Header, move bool) http.Header {
	var out http.Header
	put := func(k string, vs []string) {
		if out == nil {
			out = http.Header{}
		}
		out[k] = append(out[k], vs...)
	}
	for _, line := range h["Trailer"] {
		for name := range strings.SplitSeq(line, ",") {
			k := http.CanonicalHeaderKey(strings.TrimSpace(name))
			if vs, ok := h[k]; ok && k != "" {
				put(k, vs)
				if move {
					delete(h, k)
				}
			}
		}
	}
	for k, vs := range h {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			put(http.CanonicalHeaderKey(name), vs)
			if move {
				delete(h, k)
			}
		}
	}
	if move {
		delete(h, "Trailer")
	}
	return out
}
