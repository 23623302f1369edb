package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
	contract "github.com/wasmserve/wasmserve/abi/outbound"
)

// call is one outbound request and its response, behind a handle.
type call struct {
	req    *http.Request
	follow bool
	ctx    context.Context
	cancel context.CancelFunc

	pw        *io.PipeWriter // the request body, once the guest wrote some
	stopWatch func() bool    // ends the watch that closes pw at the deadline
	done      chan result    // the send under way while the body streams
	resp      *http.Response // set by send
	read      int64          // response body bytes read
	eof       bool
}

type result struct {
	resp *http.Response
	err  error
}

// close ends the call and releases what it holds.
func (k *call) close() {
	if k.pw != nil {
		k.pw.CloseWithError(errors.New("the call was closed before its body ended"))
		k.stopWatch()
	}
	if k.resp != nil {
		// Before the cancel: a body read to its end leaves its
		// connection to be reused, which cancelling first could stop.
		k.resp.Body.Close()
	}
	k.cancel()
	if k.done != nil && k.resp == nil {
		// The send still runs (cancelled now): close what it returns.
		go func(done chan result) {
			if r := <-done; r.resp != nil {
				r.resp.Body.Close()
			}
		}(k.done)
	}
}

// fail records why a host function failed, for get_error, and returns its
// code as the function's result.
func (c *Calls) fail(code contract.Code, format string, args ...any) uint64 {
	c.lastErr = fmt.Sprintf(format, args...)
	return i32Result(code)
}

// failErr records a failed call's error and returns its code.
func (c *Calls) failErr(err error) uint64 {
	c.lastErr = err.Error()
	return i32Result(CodeOf(err))
}

// failWide is fail for the functions with an i64 result: the code
// sign-extended.
func failWide(code uint64) uint64 { return uint64(int64(int32(uint32(code)))) }

// active returns the calling isolate's state during a request, or nil.
func (h *Host) active(mod api.Module) *Calls {
	c := h.calls(mod)
	if c == nil || !c.active {
		return nil
	}
	return c
}

// openCall finds the open call whose handle is stack[0], for the host
// function fn. When there is no request in flight, or no open call has the
// handle, it returns a nil call and has put the error code in stack[0].
func (h *Host) openCall(mod api.Module, fn string, stack []uint64) (*Calls, *call) {
	c := h.active(mod)
	if c == nil {
		stack[0] = noRequest
		return nil, nil
	}
	k := c.handle(uint32(stack[0]))
	if k == nil {
		stack[0] = c.fail(contract.CodeHandle, "%s: no open call has handle %d", fn, uint32(stack[0]))
	}
	return c, k
}

// noRequest is the result of a function called outside a request.
var noRequest = i32Result(contract.CodeNoRequest)

// i32Result is c as an i32 result on wazero's stack.
func i32Result(c contract.Code) uint64 { return uint64(uint32(c)) }

// handle returns the open call h, or nil.
func (c *Calls) handle(h uint32) *call {
	if h == 0 || uint64(h) > uint64(len(c.handles)) {
		return nil
	}
	return c.handles[h-1]
}

// request(method, method_len, url, url_len, flags) -> handle or code.
func (h *Host) request(_ context.Context, mod api.Module, stack []uint64) {
	method := view(mod, contract.FuncRequest, uint32(stack[0]), uint32(stack[1]))
	rawURL := view(mod, contract.FuncRequest, uint32(stack[2]), uint32(stack[3]))
	flags := contract.Flags(uint32(stack[4]))
	c := h.active(mod)
	if c == nil {
		stack[0] = noRequest
		return
	}
	switch {
	case len(method) == 0 || !isToken(method):
		stack[0] = c.fail(contract.CodeInvalid, "invalid method %q", method)
		return
	case flags&^contract.FlagManualRedirect != 0:
		stack[0] = c.fail(contract.CodeInvalid, "unknown flags %#x", uint32(flags&^contract.FlagManualRedirect))
		return
	}
	u, err := url.Parse(string(rawURL))
	if err != nil {
		stack[0] = c.fail(contract.CodeInvalid, "invalid URL %q: %v", rawURL, errors.Unwrap(err))
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		stack[0] = c.fail(contract.CodeInvalid, "invalid URL %q: want an absolute http or https URL", rawURL)
		return
	}
	if max := h.maxCalls(); max > 0 && c.made >= max {
		stack[0] = c.fail(contract.CodeLimit, "%s %s: this request already made its %d outbound calls", method, u.Redacted(), max)
		return
	}
	c.made++
	k := &call{follow: flags&contract.FlagManualRedirect == 0}
	k.ctx, k.cancel = c.callContext()
	k.req = (&http.Request{
		Method:     string(method),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header),
		Host:       u.Host,
	}).WithContext(k.ctx)
	c.handles = append(c.handles, k)
	stack[0] = uint64(len(c.handles))
}

// callContext is the context of a new call: the request's, bounded by its
// deadline and by the Host's Timeout, whichever comes first.
func (c *Calls) callContext() (context.Context, context.CancelFunc) {
	d := c.deadline
	if t := c.host.Timeout; t > 0 {
		if td := time.Now().Add(t); d.IsZero() || td.Before(d) {
			d = td
		}
	}
	if d.IsZero() {
		return context.WithCancel(c.parent)
	}
	return context.WithDeadline(c.parent, d)
}

// add_header(handle, name, name_len, value, value_len) -> 0 or code.
func (h *Host) addHeader(_ context.Context, mod api.Module, stack []uint64) {
	name := view(mod, contract.FuncAddHeader, uint32(stack[1]), uint32(stack[2]))
	value := view(mod, contract.FuncAddHeader, uint32(stack[3]), uint32(stack[4]))
	c, k := h.openCall(mod, contract.FuncAddHeader, stack)
	switch {
	case k == nil:
		return
	case k.pw != nil || k.resp != nil:
		stack[0] = c.fail(contract.CodeHandle, "add_header: the request of handle %d is already sent", uint32(stack[0]))
		return
	case len(name) == 0 || !isToken(name):
		stack[0] = c.fail(contract.CodeInvalid, "invalid header name %q", name)
		return
	case !validValue(value):
		stack[0] = c.fail(contract.CodeInvalid, "invalid value of header %s: it holds a control character", name)
		return
	}
	key, v := http.CanonicalHeaderKey(string(name)), string(value)
	switch key {
	case "Host":
		k.req.Host = v
	case "Content-Length":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			stack[0] = c.fail(contract.CodeInvalid, "invalid Content-Length %q", v)
			return
		}
		k.req.ContentLength = n
	default:
		k.req.Header[key] = append(k.req.Header[key], v)
	}
	stack[0] = 0
}

// write_body(handle, ptr, len) -> 0 or code. The first write sends the
// request, with the body streaming from the writes that follow.
func (h *Host) writeBody(_ context.Context, mod api.Module, stack []uint64) {
	b := view(mod, contract.FuncWriteBody, uint32(stack[1]), uint32(stack[2]))
	c, k := h.openCall(mod, contract.FuncWriteBody, stack)
	switch {
	case k == nil:
		return
	case k.resp != nil && k.pw != nil:
		// The origin answered before it read the whole body: the rest
		// is dropped.
		stack[0] = 0
		return
	case k.resp != nil || (k.done == nil && k.pw != nil):
		stack[0] = c.fail(contract.CodeHandle, "write_body: the request of handle %d is already sent", uint32(stack[0]))
		return
	}
	if k.pw == nil {
		pr, pw := io.Pipe()
		k.pw = pw
		k.stopWatch = context.AfterFunc(k.ctx, func() { pw.CloseWithError(context.Cause(k.ctx)) })
		k.req.Body = pr
		k.req.GetBody = nil
		done := make(chan result, 1)
		k.done = done
		go func(req *http.Request, follow bool) {
			resp, err := h.doSend(c.ID, req, follow)
			done <- result{resp, err}
		}(k.req, k.follow)
	}
	if len(b) == 0 {
		stack[0] = 0
		return
	}
	if _, err := k.pw.Write(b); err != nil {
		// The origin stopped reading: it answered early or failed.
		// The send's result says which.
		r := <-k.done
		k.done = nil
		if r.err != nil {
			stack[0] = c.failErr(r.err)
			return
		}
		k.resp = r.resp
	}
	stack[0] = 0
}

// doSend calls Send, or refuses without one.
func (h *Host) doSend(id string, req *http.Request, follow bool) (*http.Response, error) {
	if h.Send == nil {
		return nil, fmt.Errorf("%s %s: %w: no outbound calls are allowed", req.Method, req.URL.Redacted(), ErrRefused)
	}
	return h.Send(id, req, follow)
}

// send(handle) -> status or code. It ends the request body and waits for
// the response head.
func (h *Host) send(_ context.Context, mod api.Module, stack []uint64) {
	c, k := h.openCall(mod, contract.FuncSend, stack)
	if k == nil {
		return
	}
	if k.resp == nil {
		var r result
		switch {
		case k.done != nil:
			k.pw.Close()
			k.stopWatch()
			r = <-k.done
			k.done = nil
		case k.pw != nil:
			stack[0] = c.fail(contract.CodeHandle, "send: the call of handle %d failed already", uint32(stack[0]))
			return
		default:
			k.req.Body = http.NoBody
			if k.req.ContentLength > 0 {
				k.req.ContentLength = 0
			}
			r.resp, r.err = h.doSend(c.ID, k.req, k.follow)
		}
		if r.err != nil {
			stack[0] = c.failErr(r.err)
			return
		}
		k.resp = r.resp
	}
	if max := h.maxBody(); max > 0 && k.resp.ContentLength > max {
		stack[0] = c.failErr(fmt.Errorf("%s %s: %w: its %d bytes are over the %d allowed",
			k.req.Method, k.req.URL.Redacted(), ErrTooBig, k.resp.ContentLength, max))
		return
	}
	stack[0] = uint64(k.resp.StatusCode)
}

// get_headers(handle, buf, buf_limit) -> count<<32 | len, or code.
func (h *Host) getHeaders(_ context.Context, mod api.Module, stack []uint64) {
	buf, limit := uint32(stack[1]), uint32(stack[2])
	c := h.active(mod)
	if c == nil {
		stack[0] = failWide(noRequest)
		return
	}
	k := c.handle(uint32(stack[0]))
	if k == nil || k.resp == nil {
		stack[0] = failWide(c.fail(contract.CodeHandle, "get_headers: handle %d has no response (call send first)", uint32(stack[0])))
		return
	}
	var count, n uint32
	for name, vs := range k.resp.Header {
		count += uint32(len(vs))
		for _, v := range vs {
			n += uint32(len(name) + len(v) + 2)
		}
	}
	if n <= limit && n > 0 {
		b := view(mod, contract.FuncGetHeaders, buf, n)[:0]
		for name, vs := range k.resp.Header {
			for _, v := range vs {
				b = append(b, strings.ToLower(name)...)
				b = append(b, 0)
				b = append(b, v...)
				b = append(b, 0)
			}
		}
	}
	stack[0] = abi.EncodeCountLen(count, n)
}

// read_body(handle, buf, buf_limit) -> eof<<32 | n, or code.
func (h *Host) readBody(_ context.Context, mod api.Module, stack []uint64) {
	buf, limit := uint32(stack[1]), uint32(stack[2])
	c := h.active(mod)
	if c == nil {
		stack[0] = failWide(noRequest)
		return
	}
	k := c.handle(uint32(stack[0]))
	switch {
	case k == nil || k.resp == nil:
		stack[0] = failWide(c.fail(contract.CodeHandle, "read_body: handle %d has no response (call send first)", uint32(stack[0])))
		return
	case k.eof:
		stack[0] = abi.EncodeEOFLen(true, 0)
		return
	case limit == 0:
		stack[0] = abi.EncodeEOFLen(false, 0)
		return
	}
	b := view(mod, contract.FuncReadBody, buf, limit)
	n, err := k.resp.Body.Read(b)
	for n == 0 && err == nil {
		n, err = k.resp.Body.Read(b)
	}
	k.read += int64(n)
	if max := h.maxBody(); max > 0 && k.read > max {
		k.eof = true
		stack[0] = failWide(c.failErr(fmt.Errorf("%s %s: %w: over the %d bytes allowed",
			k.req.Method, k.req.URL.Redacted(), ErrTooBig, max)))
		return
	}
	switch {
	case err == io.EOF:
		k.eof = true
	case err != nil:
		k.eof = true
		if cerr := context.Cause(k.ctx); cerr != nil {
			err = fmt.Errorf("%w (%v)", cerr, err)
		}
		stack[0] = failWide(c.failErr(fmt.Errorf("reading the response of %s %s: %w", k.req.Method, k.req.URL.Redacted(), err)))
		return
	}
	stack[0] = abi.EncodeEOFLen(k.eof, uint32(n))
}

// close(handle): ends the call, whatever its state. An unknown handle is
// ignored.
func (h *Host) close(_ context.Context, mod api.Module, stack []uint64) {
	c := h.active(mod)
	if c == nil {
		return
	}
	hd := uint32(stack[0])
	if k := c.handle(hd); k != nil {
		k.close()
		c.handles[hd-1] = nil
	}
}

// get_error(buf, buf_limit) -> len: why the last failing function of this
// request failed.
func (h *Host) getError(_ context.Context, mod api.Module, stack []uint64) {
	buf, limit := uint32(stack[0]), uint32(stack[1])
	msg := "no request in flight: outbound calls can only be made while handling a request"
	if c := h.active(mod); c != nil {
		msg = c.lastErr
	}
	n := uint32(len(msg))
	if n <= limit && n > 0 {
		copy(view(mod, contract.FuncGetError, buf, n), msg)
	}
	stack[0] = uint64(n)
}

// isToken reports whether b is an HTTP token (RFC 9110 §5.6.2).
func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validValue reports whether b may be a header value: no control characters
// but tab.
func validValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
