package wasihttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

// outparam is the Go value of the response-outparam of one request: the
// client's ResponseWriter, and what the guest made of it.
type outparam struct {
	w      http.ResponseWriter
	noBody bool // a HEAD request: the body written is counted, not sent

	set       bool
	resp      *outgoingResponse
	errCode   *errorCode // set with an error-code
	committed bool       // the status and headers are written
	declared  int64      // the response's content-length; -1 if none
	written   int64
	writeErr  error // the first error writing to the client
	ended     bool  // Serve returned: w is no longer the guest's
}

// commit writes the status and headers of the response set, once. The
// headers can no longer change.
func (o *outparam) commit() {
	if o.committed || o.resp == nil || o.ended {
		return
	}
	o.committed = true
	r := o.resp
	r.headers.immutable = true
	h := o.w.Header()
	r.headers.addTo(h)
	o.declared = -1
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			o.declared = n
		} else {
			h.Del("Content-Length")
		}
	}
	o.w.WriteHeader(r.status)
	if len(r.early) > 0 {
		early := r.early
		r.early = nil
		o.writeBody(early)
	}
}

// writeBody writes p of the response body to the client.
func (o *outparam) writeBody(p []byte) error {
	if o.ended {
		return errRequestEnded
	}
	if o.writeErr != nil {
		return o.writeErr
	}
	if o.declared >= 0 && o.written+int64(len(p)) > o.declared {
		return fmt.Errorf("response body over its content-length of %d bytes", o.declared)
	}
	if o.noBody || o.resp.status == http.StatusNoContent || o.resp.status == http.StatusNotModified {
		o.written += int64(len(p))
		return nil
	}
	n, err := o.w.Write(p)
	o.written += int64(n)
	if err != nil {
		o.writeErr = err
	}
	return err
}

func (o *outparam) flush() error {
	if o.ended {
		return errRequestEnded
	}
	if o.writeErr != nil {
		return o.writeErr
	}
	if err := http.NewResponseController(o.w).Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		o.writeErr = err
		return err
	}
	return nil
}

// outgoingResponse is the Go value of an outgoing-response.
type outgoingResponse struct {
	status    int
	headers   *fields
	body      *outgoingBody
	bodyTaken bool
	out       *outparam // the outparam it was set to
	// early holds the body written before the response was set to the
	// outparam, up to earlyLimit bytes.
	early []byte
}

// earlyLimit bounds what a response body holds before its response is
// set to the outparam; past it the stream fails, since only setting the
// outparam could make room, which a guest waiting for room never does.
const earlyLimit = 1 << 20

// errEarlyBody is the stream error of a body written past earlyLimit
// before its response was set.
var errEarlyBody = fmt.Errorf("over %d bytes of response body written before the response was set", earlyLimit)

// outgoingBody is the Go value of an outgoing-body: of the response to
// the client, or of an outgoing request (pipe set).
type outgoingBody struct {
	resp *outgoingResponse
	pipe *pipe

	streamTaken bool
	finished    bool
	dropped     bool // dropped unfinished: the message is incomplete
}

// errRequestTrailers is the error of an outgoing request finished with
// trailers.
var errRequestTrailers = errors.New("trailers on outgoing requests are not supported")

// responseStream is the output stream of a response body.
type responseStream struct {
	r       *outgoingResponse
	pending bool // written since the last flush
}

func (s *responseStream) CheckWrite() (uint64, error) {
	o := s.r.out
	switch {
	case s.r.body.finished:
		return 0, io.EOF
	case o == nil && len(s.r.early) >= earlyLimit:
		return 0, errEarlyBody
	case o == nil:
		return uint64(min(chunkSize, earlyLimit-len(s.r.early))), nil
	case o.writeErr != nil:
		return 0, o.writeErr
	}
	return chunkSize, nil
}

func (s *responseStream) Write(p []byte) error {
	o := s.r.out
	switch {
	case s.r.body.finished:
		return io.EOF
	case o == nil:
		if len(s.r.early)+len(p) > earlyLimit {
			return fmt.Errorf("wrote %d bytes where check-write allowed %d", len(p), earlyLimit-len(s.r.early))
		}
		s.r.early = append(s.r.early, p...)
		return nil
	}
	o.commit()
	if len(p) > 0 {
		s.pending = true
	}
	return o.writeBody(p)
}

func (s *responseStream) Flush() error {
	o := s.r.out
	if o == nil || !s.pending {
		return nil
	}
	s.pending = false
	return o.flush()
}

// Subscribe: writes to the client block in Write, which is the
// backpressure; before the response is set, room comes only from setting
// it, which the guest must do.
func (s *responseStream) Subscribe() wasip2.Pollable { return wasip2.ReadyPollable() }

func (s *responseStream) Close() {}

// finishResponse is outgoing-body.finish of a response body.
func (b *outgoingBody) finishResponse(t *fields) cabi.Result {
	r := b.resp
	if o := r.out; o != nil {
		o.commit()
		if o.declared >= 0 && o.written != o.declared {
			b.dropped = true
			return fail(errorCode{Case: ecHTTPResponseBodySize, Value: some(uint64(o.written))})
		}
		if t != nil {
			h := o.w.Header()
			for _, e := range t.entries {
				if forbiddenFields[e.name] {
					continue
				}
				k := http.TrailerPrefix + http.CanonicalHeaderKey(e.name)
				h[k] = append(h[k], string(e.value))
			}
		}
	}
	b.finished = true
	return ok(nil)
}

// responseFuncs are the functions of outgoing-response, outgoing-body and
// response-outparam.
func responseFuncs() map[string]*component.HostFunc {
	resp := component.Param{Name: "self", Type: borrow(outgoingResponseRes)}
	body := component.Param{Name: "self", Type: borrow(outgoingBodyRes)}
	return map[string]*component.HostFunc{
		"[constructor]outgoing-response": {
			Params:  []component.Param{{Name: "headers", Type: own(fieldsRes)}},
			Results: []*cabi.Type{own(outgoingResponseRes)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				h := args[0].(*fields)
				return []any{&outgoingResponse{status: http.StatusOK, headers: h}}, nil
			},
		},
		"[method]outgoing-response.status-code": {
			Params:  []component.Param{resp},
			Results: []*cabi.Type{statusCodeType},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{uint16(args[0].(*outgoingResponse).status)}, nil
			},
		},
		"[method]outgoing-response.set-status-code": {
			Params:  []component.Param{resp, {Name: "status-code", Type: statusCodeType}},
			Results: []*cabi.Type{unitResult},
			Call: func(_ context.Context, args []any) ([]any, error) {
				r, code := args[0].(*outgoingResponse), int(args[1].(uint16))
				if code < 200 || code > 999 || (r.out != nil && r.out.committed) {
					return []any{fail(nil)}, nil
				}
				r.status = code
				return []any{ok(nil)}, nil
			},
		},
		"[method]outgoing-response.headers": {
			Params:  []component.Param{resp},
			Results: []*cabi.Type{own(fieldsRes)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{args[0].(*outgoingResponse).headers}, nil
			},
		},
		"[method]outgoing-response.body": {
			Params:  []component.Param{resp},
			Results: []*cabi.Type{cabi.ResultOf(own(outgoingBodyRes), nil)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				r := args[0].(*outgoingResponse)
				if r.bodyTaken {
					return []any{fail(nil)}, nil
				}
				r.bodyTaken = true
				r.headers.immutable = true
				r.body = &outgoingBody{resp: r}
				return []any{ok(r.body)}, nil
			},
		},
		"[method]outgoing-body.write": {
			Params:  []component.Param{body},
			Results: []*cabi.Type{cabi.ResultOf(own(wasip2.OutputStreamType), nil)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				b := args[0].(*outgoingBody)
				if b.streamTaken || b.finished {
					return []any{fail(nil)}, nil
				}
				b.streamTaken = true
				if b.pipe != nil {
					return []any{ok(wasip2.OutputStream(pipeStream{b.pipe}))}, nil
				}
				return []any{ok(wasip2.OutputStream(&responseStream{r: b.resp}))}, nil
			},
		},
		"[static]outgoing-body.finish": {
			Params: []component.Param{
				{Name: "this", Type: own(outgoingBodyRes)},
				{Name: "trailers", Type: cabi.OptionOf(own(fieldsRes))},
			},
			Results: []*cabi.Type{cabi.ResultOf(nil, errorCodeType)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				b := args[0].(*outgoingBody)
				var t *fields
				if o := args[1].(cabi.Option); o.Some {
					t = o.Value.(*fields)
				}
				if b.pipe != nil {
					b.finished = true
					if t != nil && len(t.entries) > 0 {
						// Go's client sends only the trailers declared
						// before the request: none can be added at the end.
						b.pipe.finish(errRequestTrailers)
						return []any{fail(internalError(errRequestTrailers.Error()))}, nil
					}
					b.pipe.finish(nil)
					return []any{ok(nil)}, nil
				}
				return []any{b.finishResponse(t)}, nil
			},
		},
		"[static]response-outparam.set": {
			Params: []component.Param{
				{Name: "param", Type: own(responseOutparamRes)},
				{Name: "response", Type: cabi.ResultOf(own(outgoingResponseRes), errorCodeType)},
			},
			Call: func(_ context.Context, args []any) ([]any, error) {
				o, res := args[0].(*outparam), args[1].(cabi.Result)
				if o.ended {
					return nil, errRequestEnded
				}
				if o.set {
					return nil, errors.New("response-outparam set twice")
				}
				o.set = true
				if res.Err {
					ec := res.Value.(cabi.Variant)
					o.errCode = &ec
					return nil, nil
				}
				r := res.Value.(*outgoingResponse)
				if r.out != nil {
					return nil, errors.New("an outgoing-response set to two outparams")
				}
				r.out, o.resp = o, r
				r.headers.immutable = true
				o.commit()
				return nil, nil
			},
		},
		"[method]response-outparam.send-informational": {
			Params: []component.Param{
				{Name: "self", Type: borrow(responseOutparamRes)},
				{Name: "status", Type: cabi.U16Type},
				{Name: "headers", Type: own(fieldsRes)},
			},
			Results: []*cabi.Type{cabi.ResultOf(nil, errorCodeType)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				o, code, h := args[0].(*outparam), int(args[1].(uint16)), args[2].(*fields)
				if o.set || o.ended || code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
					return []any{fail(internalError("an informational response must come before the response, with a 1xx status other than 101"))}, nil
				}
				wh := o.w.Header()
				saved := wh.Clone()
				h.addTo(wh)
				o.w.WriteHeader(code)
				clear(wh)
				for k, v := range saved {
					wh[k] = v
				}
				return []any{ok(nil)}, nil
			},
		},
	}
}
