package httpwasm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
)

// Guest is the ABI side of one isolate: a module instance bound to a
// [Host]. It serves one request at a time and is not safe for concurrent use;
// the pool guarantees that. Create it with [Host.NewGuest], instantiate the
// module with [Guest.Context] (so that the start function can call
// enable_features, log and get_config), then [Guest.Bind] the instance.
type Guest struct {
	// ID names the isolate in log lines.
	ID string

	host           *Host
	mod            api.Module
	mem            api.Memory
	handleRequest  api.Function
	handleResponse api.Function
	features       abi.Features  // module-wide, from the start function
	ctx            guestCtx      // reused for calls without a deadline
	ex             exchange      // the request in flight
	nw             nextWriter    // what next writes to, reused
	tee            *bytes.Buffer // reused for exchange.reqTee
	out            *bytes.Buffer // reused for exchange.held
	names, values  internTable   // header names and values the guest set lately
	keyBuf         []byte        // scratch of lookupKey
	stack          [2]uint64
}

// phase is where an exchange is in the request/response cycle.
type phase uint8

const (
	phaseRequest  phase = iota // in handle_request, before next
	phaseResponse              // after next, in handle_response
)

// exchange is the state of one request through a guest. It lives inside the
// Guest and is reset for every request, so that a request allocates none.
type exchange struct {
	w           http.ResponseWriter
	r           *http.Request
	phase       phase
	features    abi.Features
	status      int // 0 means 200
	committed   bool
	reqEOF      bool
	reqRead     int64         // request body bytes the guest has read
	reqBodyOut  *bytes.Buffer // request body written by the guest, for next
	reqTee      *bytes.Buffer // request body read by the guest (buffer_request)
	buffered    bool          // next's response is held for handle_response
	respBody    *bytes.Buffer // the held response body (buffer_response)
	respRead    int           // how much of respBody the guest has read
	respWritten bool          // the guest replaced respBody
	held        *bytes.Buffer // response body written by the guest, not yet sent
	respTrailer http.Header
	nextAborted bool // next failed after the response was committed
	trap        *TrapError
	writeErr    error
	bodyErr     error // reading the client's body failed; the guest saw EOF
	finishing   bool  // the guest returned: the whole body is known
	// respHeaderBytes counts the response header bytes the guest set.
	respHeaderBytes int
	// framing says the response header may hold a key cleanFraming
	// looks at: the guest set one (isFramingKey), or next ran and its
	// handler's headers are in. Without it the map has none, and commit
	// skips the deletes.
	framing bool
}

func (ex *exchange) statusCode() int {
	if ex.status == 0 {
		return http.StatusOK
	}
	return ex.status
}

// NewGuest returns an unbound Guest named id.
func (h *Host) NewGuest(id string) *Guest {
	g := &Guest{ID: id, host: h}
	g.ctx = guestCtx{Context: context.Background(), g: g}
	return g
}

// Context returns a context derived from parent that carries g, for
// instantiating g's module: host functions called by the start function find
// their isolate through it.
func (g *Guest) Context(parent context.Context) context.Context {
	return &guestCtx{Context: parent, g: g}
}

// Bind attaches the instantiated module to g and resolves its exports.
func (g *Guest) Bind(mod api.Module) error {
	if mod.IsClosed() {
		// wazero closes an instance whose start function calls
		// proc_exit, even proc_exit(0), and reports no error.
		return errors.New("the module's start function (_start) exited with proc_exit(0), which closes the instance: " +
			"an http-wasm guest must stay alive after starting; build it as a reactor that exports _initialize " +
			"(Go and TinyGo: -buildmode=c-shared)")
	}
	mem := mod.ExportedMemory(abi.ExportMemory)
	if mem == nil {
		return fmt.Errorf("module does not export %q", abi.ExportMemory)
	}
	hr := mod.ExportedFunction(abi.ExportHandleRequest)
	if hr == nil {
		return fmt.Errorf("module does not export %q", abi.ExportHandleRequest)
	}
	g.mod, g.mem, g.handleRequest = mod, mem, hr
	g.handleResponse = mod.ExportedFunction(abi.ExportHandleResponse)
	if f := mod.ExportedFunction(abi.ExportHandlerRegistered); f != nil {
		res, err := f.Call(&g.ctx)
		if err != nil {
			return fmt.Errorf("calling %s: %w", abi.ExportHandlerRegistered, err)
		}
		if len(res) == 1 && uint32(res[0]) == 0 {
			return errors.New("the module started but registered no handler: call guest.Handle from an init function, " +
				"not from main, which a -buildmode=c-shared module never runs")
		}
	}
	return nil
}

// Features returns the features the start function enabled for every
// request of this isolate.
func (g *Guest) Features() abi.Features { return g.features }

// Memory returns the isolate's linear memory, for tests and diagnostics.
func (g *Guest) Memory() api.Memory { return g.mem }

// GuestError is a failed guest call: a trap, an exit, an interruption, or a
// host function refusing what the guest asked. After one, the isolate must
// not be used again.
type GuestError struct {
	// Export is the guest function that failed.
	Export string
	// Trap is set when a host function trapped the guest for breaking the
	// ABI; it says which function and why.
	Trap *TrapError
	// Err is wazero's error, with the trap message and the wasm stack.
	Err error
	// Committed reports that the response status and headers had already
	// been sent, so the host can no longer answer with an error status.
	Committed bool
}

// Error names the guest function that failed and wazero's error.
func (e *GuestError) Error() string {
	return e.Export + ": " + e.Err.Error()
}

// Unwrap returns the trap (when a host function raised it) and wazero's
// error, for errors.Is and errors.As.
func (e *GuestError) Unwrap() []error {
	if e.Trap != nil {
		return []error{e.Trap, e.Err}
	}
	return []error{e.Err}
}

// Handle serves one request through the guest: handle_request, then, when
// the guest asks for next, the host's next handler and handle_response. A
// ctx with a deadline or cancellation interrupts the guest only if the
// runtime was configured to close modules on context done. A *BodyError
// (the client's body could not be read) leaves the guest usable; any other
// error is a *GuestError and leaves the guest unusable.
func (g *Guest) Handle(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	ex := &g.ex
	*ex = exchange{w: w, r: r, features: g.features}
	if len(r.TransferEncoding) > 0 && r.Header["Transfer-Encoding"] == nil {
		// net/http moves the header out of the map; a guest needs it
		// to know that a request without Content-Length has a body.
		r.Header["Transfer-Encoding"] = r.TransferEncoding
	}
	defer func() { *ex = exchange{} }()

	callCtx := context.Context(&g.ctx)
	if ctx.Done() != nil {
		callCtx = &guestCtx{Context: ctx, g: g}
	}

	g.stack[0] = 0
	if err := g.handleRequest.CallWithStack(callCtx, g.stack[:]); err != nil {
		return g.fail(abi.ExportHandleRequest, err)
	}
	reqCtx, next := abi.DecodeHandleRequest(g.stack[0])
	if next {
		failed := g.callNext()
		if g.handleResponse != nil {
			g.stack[0], g.stack[1] = uint64(reqCtx), 0
			if failed {
				g.stack[1] = 1
			}
			if err := g.handleResponse.CallWithStack(callCtx, g.stack[:]); err != nil {
				return g.fail(abi.ExportHandleResponse, err)
			}
		}
	}
	if ex.bodyErr != nil {
		// Whatever the guest made of a truncated body is not sent.
		if ex.held != nil {
			ex.held.Reset()
		}
		return &BodyError{Err: ex.bodyErr, Committed: ex.committed}
	}
	g.finish()
	if ex.nextAborted {
		// The response was cut short after its status line went out:
		// the host must abort it rather than end it as if complete.
		return &GuestError{Export: "next handler", Err: g.nw.err, Committed: true}
	}
	return nil
}

// BodyError reports that reading the client's request body failed (a
// malformed chunked encoding, a client that hung up, a body over its limit,
// a read deadline): the guest read it as ended and finished normally, so
// the isolate can serve again, but its response was not sent. The host
// answers the client itself, unless Committed.
type BodyError struct {
	// Err is the error reading the body returned.
	Err error
	// Committed reports that the response status and headers had already
	// been sent.
	Committed bool
}

// Error says that reading the request body failed, and why.
func (e *BodyError) Error() string { return "reading the request body: " + e.Err.Error() }

// Unwrap returns the error reading the body returned.
func (e *BodyError) Unwrap() error { return e.Err }

func (g *Guest) fail(export string, err error) error {
	return &GuestError{Export: export, Trap: g.ex.trap, Err: err, Committed: g.ex.committed}
}

// commit sends the status line and headers once.
func (ex *exchange) commit() {
	if ex.committed {
		return
	}
	ex.committed = true
	n := -1 // the body's length, when all of it is known
	switch {
	case ex.r.Method == http.MethodHead:
		// The length of the body a GET would get: not known here.
	case ex.buffered:
		n = ex.respBody.Len()
	case ex.finishing && ex.held != nil:
		n = ex.held.Len()
	case ex.finishing:
		n = 0
	}
	if ex.framing {
		cleanFraming(ex.w.Header(), n)
	}
	ex.w.WriteHeader(ex.statusCode())
}

// hopByHop are the connection-specific response headers (RFC 9110 §7.6.1,
// plus Proxy-Connection and Keep-Alive of HTTP/1.0) and Transfer-Encoding:
// how the response is framed and carried is the host's business, and
// HTTP/2 clients reject a stream carrying any of them.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Transfer-Encoding", "Upgrade"}

// isFramingKey reports whether the canonical header name k is one
// cleanFraming removes or checks.
func isFramingKey(k string) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Te", "Transfer-Encoding", "Upgrade", "Content-Length":
		return true
	}
	return false
}

// cleanFraming makes the response headers h safe to send before net/http
// frames the response: it removes every hop-by-hop header, and keeps
// Content-Length only when it is one non-negative number that matches the
// body length n (n < 0: not known yet, as when the body streams; net/http
// then enforces the declared length). Without Content-Length, net/http
// computes it or chunks the body.
func cleanFraming(h http.Header, n int) {
	for _, k := range hopByHop {
		delete(h, k)
	}
	vs, ok := h["Content-Length"]
	if !ok {
		return
	}
	v, err := strconv.ParseUint(strings.TrimSpace(vs[0]), 10, 63)
	for _, other := range vs[1:] {
		if strings.TrimSpace(other) != strings.TrimSpace(vs[0]) {
			err = strconv.ErrSyntax
		}
	}
	if err != nil || n >= 0 && v != uint64(n) {
		delete(h, "Content-Length")
		return
	}
	h["Content-Length"] = vs[:1]
}

// holdLimit is how much response body the guest may write in handle_request
// before the status and headers go out and the rest streams: until then the
// guest may still change them, as http-wasm guests expect.
const holdLimit = 64 << 10

// flushHeld sends the status, the headers and the held body.
func (g *Guest) flushHeld() {
	ex := &g.ex
	ex.commit()
	if ex.held != nil && ex.held.Len() > 0 {
		if ex.writeErr == nil {
			// A client that went away is not the guest's fault: the
			// rest of its output is dropped, the isolate stays healthy.
			_, ex.writeErr = ex.w.Write(ex.held.Bytes())
		}
		ex.held.Reset()
	}
}

// finish completes the response the guest built: headers of an untouched
// or body-less response, and response trailers.
func (g *Guest) finish() {
	ex := &g.ex
	ex.finishing = true
	trailers := len(ex.respTrailer) > 0 && (ex.phase == phaseRequest || ex.buffered)
	if trailers {
		// Set before the headers go out when they have not yet, so
		// that HTTP/1.1 switches to chunked encoding to carry them.
		h := ex.w.Header()
		for k, vs := range ex.respTrailer {
			h[http.TrailerPrefix+k] = vs
		}
	}
	if ex.buffered {
		if !trailers && ex.r.Method != http.MethodHead {
			ex.w.Header().Set("Content-Length", strconv.Itoa(ex.respBody.Len()))
		}
		ex.commit()
		if ex.respBody.Len() > 0 {
			_, ex.writeErr = ex.w.Write(ex.respBody.Bytes())
		}
	}
	g.flushHeld()
}

// requestForWrite traps unless the request may still be changed.
func (g *Guest) requestForWrite(fn string) *http.Request {
	r := g.request(fn)
	if g.ex.phase != phaseRequest {
		g.trap(fn, "the request cannot be changed after next was called")
	}
	return r
}

// responseForWrite traps unless the response may still be changed.
func (g *Guest) responseForWrite(fn string) {
	g.request(fn)
	if g.ex.phase != phaseRequest && !g.ex.buffered {
		g.trap(fn, "the response cannot be changed after next without the buffer_response feature")
	}
	if g.ex.committed {
		g.trap(fn, "the response status and headers were already sent: the guest's response body outgrew the %d bytes held before streaming", holdLimit)
	}
}

func readBody(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	ex := &g.ex
	r := g.request(abi.FuncReadBody)
	kind := abi.BodyKind(uint32(stack[0]))
	buf, limit := uint32(stack[1]), uint32(stack[2])
	switch kind {
	case abi.BodyKindRequest:
	case abi.BodyKindResponse:
		// Only a response held by buffer_response can be read back:
		// otherwise it streamed to the client.
		if !ex.buffered {
			stack[0] = abi.EncodeEOFLen(true, 0)
			return
		}
		b := g.view(abi.FuncReadBody, buf, limit)
		n := copy(b, ex.respBody.Bytes()[ex.respRead:])
		ex.respRead += n
		stack[0] = abi.EncodeEOFLen(ex.respRead == ex.respBody.Len(), uint32(n))
		return
	default:
		g.trap(abi.FuncReadBody, "unknown body kind %d (want 0 or 1)", uint32(kind))
	}
	if ex.reqEOF || r.Body == nil || ex.phase != phaseRequest {
		stack[0] = abi.EncodeEOFLen(true, 0)
		return
	}
	if limit == 0 {
		stack[0] = abi.EncodeEOFLen(false, 0)
		return
	}
	b := g.view(abi.FuncReadBody, buf, limit)
	n, err := r.Body.Read(b)
	for n == 0 && err == nil {
		n, err = r.Body.Read(b)
	}
	ex.reqRead += int64(n)
	switch {
	case err == io.EOF:
		ex.reqEOF = true
	case err == nil && r.ProtoMajor == 1 && r.ContentLength > 0 && ex.reqRead == r.ContentLength:
		// An HTTP/1 body of known length ends at its length and has no
		// trailers: say EOF with its last bytes, which saves the guest a
		// read_body call that could only return EOF.
		ex.reqEOF = true
	case err != nil:
		// The client's fault (a malformed chunk, a hang-up, a body
		// over the limit, a read deadline), not the guest's: the guest
		// reads the end of the body and finishes normally, and Handle
		// then reports a *BodyError so that the host answers the client
		// and keeps the isolate. A trap would unwind the guest in the
		// middle of its work and cost the isolate.
		ex.reqEOF, ex.bodyErr = true, err
	}
	if n > 0 && ex.features.Has(abi.FeatureBufferRequest) {
		if ex.reqTee == nil {
			if g.tee == nil {
				g.tee = new(bytes.Buffer)
			}
			g.tee.Reset()
			ex.reqTee = g.tee
		}
		ex.reqTee.Write(b[:n])
	}
	stack[0] = abi.EncodeEOFLen(ex.reqEOF, uint32(n))
}

func writeBody(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	ex := &g.ex
	g.request(abi.FuncWriteBody)
	kind := abi.BodyKind(uint32(stack[0]))
	b := g.view(abi.FuncWriteBody, uint32(stack[1]), uint32(stack[2]))
	switch kind {
	case abi.BodyKindRequest:
		g.requestForWrite(abi.FuncWriteBody)
		if ex.reqBodyOut == nil {
			ex.reqBodyOut = new(bytes.Buffer)
		}
		if max := g.host.maxBufferedBody(); int64(ex.reqBodyOut.Len())+int64(len(b)) > max {
			g.trap(abi.FuncWriteBody, "the request body written for the next handler exceeds %d bytes", max)
		}
		ex.reqBodyOut.Write(b)
	case abi.BodyKindResponse:
		if ex.buffered {
			if !ex.respWritten {
				ex.respWritten = true
				ex.respBody.Reset()
				ex.respRead = 0
			}
			ex.respBody.Write(b)
			return
		}
		if ex.phase != phaseRequest {
			g.trap(abi.FuncWriteBody, "the response cannot be changed after next without the buffer_response feature")
		}
		if ex.committed {
			if ex.writeErr == nil && len(b) > 0 {
				_, ex.writeErr = ex.w.Write(b)
			}
			return
		}
		if ex.held == nil {
			if g.out == nil {
				g.out = new(bytes.Buffer)
			}
			g.out.Reset()
			ex.held = g.out
		}
		ex.held.Write(b)
		if ex.held.Len() >= holdLimit {
			g.flushHeld()
		}
	default:
		g.trap(abi.FuncWriteBody, "unknown body kind %d (want 0 or 1)", uint32(kind))
	}
}

// protoString is the request's protocol version as the ABI spells it.
func protoString(r *http.Request) string {
	switch {
	case r.ProtoMajor == 1 && r.ProtoMinor == 1:
		return "HTTP/1.1"
	case r.ProtoMajor == 2:
		return "HTTP/2.0"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "HTTP/1.0"
	}
	return r.Proto
}

// setRequestURI replaces the path and query of r with uri, a request target
// in origin form ("/path?query").
func setRequestURI(r *http.Request, uri string) error {
	if uri[0] != '/' {
		return fmt.Errorf("invalid URI %q: want a path starting with '/'", uri)
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return fmt.Errorf("invalid URI %q: %w", uri, errors.Unwrap(err))
	}
	r.URL.Path, r.URL.RawPath = u.Path, u.RawPath
	r.URL.RawQuery, r.URL.ForceQuery = u.RawQuery, u.ForceQuery
	r.RequestURI = uri
	return nil
}
