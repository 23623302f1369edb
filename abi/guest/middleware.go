//go:build wasip1

package guest

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/wasmserve/wasmserve/abi"
)

// ErrNextFailed is returned by Next, with the response the host made of the
// failure (502 for an unreachable upstream), when the next handler failed.
var ErrNextFailed = errors.New("guest: the next handler failed")

// middleware is set by HandleMiddleware: every request runs its handler on
// a goroutine of its own, so that Next can hand the request to the host and
// wait for the response.
var middleware bool

// HandleMiddleware registers h, like Handle, as a middleware: h may call
// Next to pass the request to the host's next handler (wasmserve's
// --upstream; without one the host answers 404) and then see and change
// the response.
//
// Call it from an init function: it turns on the ABI's buffer_request,
// buffer_response and trailers features for the whole module, so that the
// request body the handler read still reaches the next handler, and the
// next handler's response is held for the handler to read and rewrite
// (bounded by the host; see its --max-body). A handler that does not call
// Next answers the request itself, as with Handle.
func HandleMiddleware(h http.Handler) {
	Handle(h)
	middleware = true
	enableFeatures(abi.FeatureBufferRequest | abi.FeatureBufferResponse | abi.FeatureTrailers)
}

// exchange is the request in flight in middleware mode: its handler runs on
// a goroutine of its own, and these channels hand control between it and
// the exports the host calls.
type exchange struct {
	next     chan struct{} // the handler called Next: handle_request returns next=1
	response chan bool     // handle_response ran, with is_error
	finished chan struct{} // the handler returned
	called   bool          // Next was called

	// The request as it came, to send the host only what the handler
	// changed.
	method, target, host string
	body                 io.ReadCloser
}

// current is the exchange in flight; the host runs one request at a time
// in an instance.
var current *exchange

// serveMiddleware runs the handler on its own goroutine and returns once it
// either finished or called Next.
func serveMiddleware() (next bool) {
	ex := &exchange{next: make(chan struct{}), response: make(chan bool), finished: make(chan struct{})}
	current = ex
	go func() {
		defer close(ex.finished)
		serve(ex)
	}()
	select {
	case <-ex.next:
		return true
	case <-ex.finished:
		current = nil
		return false
	}
}

// resumeMiddleware hands the handler that called Next its response and
// waits for it to finish.
func resumeMiddleware(isError bool) {
	ex := current
	if ex == nil || !ex.called {
		return
	}
	ex.response <- isError
	<-ex.finished
	current = nil
}

// Next passes r to the host's next handler and waits for its response. r
// goes as the handler left it: a changed Method, URL, Host or Header is sent
// to the host first, and a replaced Body is read to its end and sent
// instead of the client's (the part of the client's body the handler read
// is replayed to the next handler by the host).
//
// The returned response has the next handler's StatusCode, Header, Trailer
// and a Body reading its body. From then on w stands for that response:
// w.Header() holds its header, and what the handler changes in it, a
// WriteHeader call, and Write calls (which replace the body) are what the
// client gets; a handler that changes nothing passes the response on as
// it came. With an error from the next handler (an unreachable upstream)
// Next returns ErrNextFailed and the host's error response.
//
// Next works only in a handler registered with HandleMiddleware, once per
// request, and before anything was written to w.
func Next(w http.ResponseWriter, r *http.Request) (*http.Response, error) {
	ex := current
	if !middleware || ex == nil {
		return nil, errors.New("guest: Next needs the handler registered with guest.HandleMiddleware")
	}
	rw := unwrapWriter(w)
	switch {
	case rw == nil:
		return nil, errors.New("guest: Next needs the ResponseWriter the handler was given (or one whose Unwrap returns it)")
	case ex.called:
		return nil, errors.New("guest: Next called twice for one request")
	case rw.wroteHeader:
		return nil, errors.New("guest: Next called after the response was started")
	}
	if err := pushRequest(ex, r); err != nil {
		return nil, err
	}
	ex.called = true
	ex.next <- struct{}{}
	failed := <-ex.response

	resp := &http.Response{
		StatusCode: int(getStatusCode()),
		Proto:      r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		Header:        readHeaders(abi.HeaderKindResponse),
		Trailer:       readHeaders(abi.HeaderKindResponseTrailers),
		Body:          &responseBody{},
		ContentLength: -1,
		Request:       r,
	}
	resp.Status = strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	if cl, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); err == nil {
		resp.ContentLength = cl
	}
	clear(rw.header)
	for k, vs := range resp.Header {
		rw.header[k] = append([]string(nil), vs...)
	}
	rw.next = resp.Header
	rw.status = resp.StatusCode
	if failed {
		return resp, ErrNextFailed
	}
	return resp, nil
}

// unwrapWriter finds the SDK's ResponseWriter under w.
func unwrapWriter(w http.ResponseWriter) *responseWriter {
	for range 16 {
		switch v := w.(type) {
		case *responseWriter:
			return v
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// pushRequest sends the host what the handler changed in r.
func pushRequest(ex *exchange, r *http.Request) error {
	if r.Method != ex.method {
		setMethod(r.Method)
	}
	if t := r.URL.RequestURI(); t != ex.target {
		setURI(t)
	}
	if r.Host != ex.host {
		setHeaderValue(abi.HeaderKindRequest, "host", r.Host)
	}
	names := readHeaderNames(abi.HeaderKindRequest)
	for len(names) > 0 {
		i := indexNUL(names)
		if i < 0 {
			i = len(names)
		}
		name := string(names[:i])
		names = names[min(i+1, len(names)):]
		if name == "" || name == "host" {
			continue
		}
		if _, ok := r.Header[canonicalKey([]byte(name))]; !ok {
			removeHeader(abi.HeaderKindRequest, name)
		}
	}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "host") {
			continue
		}
		if len(vs) == 0 {
			removeHeader(abi.HeaderKindRequest, k)
			continue
		}
		setHeaderValue(abi.HeaderKindRequest, k, vs[0])
		for _, v := range vs[1:] {
			addHeaderValue(abi.HeaderKindRequest, k, v)
		}
	}
	if r.Body != ex.body && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return errors.New("guest: Next: reading the replaced request body: " + err.Error())
		}
		if len(b) == 0 {
			writeBody(abi.BodyKindRequest, nil, 0)
		} else {
			writeBody(abi.BodyKindRequest, &b[0], uint32(len(b)))
		}
	}
	return nil
}

// responseBody reads the next handler's response body, held by the host.
type responseBody struct{ eof bool }

// Read implements io.Reader.
func (b *responseBody) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	limit := uint32(min(len(p), 1<<30))
	eof, n32 := abi.DecodeEOFLen(readBody(abi.BodyKindResponse, &p[0], limit))
	n := int(n32)
	if n > len(p) {
		return 0, errors.New("guest: host read_body overran the buffer")
	}
	if eof {
		b.eof = true
		if n == 0 {
			return 0, io.EOF
		}
	}
	return n, nil
}

// Close implements io.Closer.
func (b *responseBody) Close() error { return nil }
