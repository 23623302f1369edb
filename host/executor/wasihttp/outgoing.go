package wasihttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

// outgoingRequest is the Go value of an outgoing-request.
type outgoingRequest struct {
	method        string
	pathWithQuery *string
	scheme        *string
	authority     *string
	headers       *fields
	body          *outgoingBody
}

// requestOptions is the Go value of a request-options: timeouts in
// nanoseconds, nil for none.
type requestOptions struct {
	connect, firstByte, betweenBytes *uint64
}

// outgoingCall is one request sent by outgoing-handler.handle: the Go
// value of its future-incoming-response.
type outgoingCall struct {
	req    *http.Request
	cancel context.CancelFunc
	done   chan struct{} // closed when resp or err is set
	limit  int64         // response body bound; 0 none

	mu    sync.Mutex
	resp  *http.Response
	err   error
	taken bool // get returned the response or the error
	body  *incomingBody
}

// close ends the call: its context, and the response body if the guest
// has not taken it (a taken body is closed when the guest drops it).
func (c *outgoingCall) close() {
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.body != nil {
		c.body.close()
	} else if c.resp != nil {
		c.resp.Body.Close()
	}
	c.taken = true
}

// State is the wasi:http state of one component instance: the outgoing
// requests of the request it serves. Serve resets it for each request and
// ends what the request left open.
type State struct {
	// ID names the instance in the logs of the outbound policy.
	ID string

	mu    sync.Mutex
	calls int
	open  []*outgoingCall
}

// StateHolder is what an instance's Data implements to give wasi:http its
// per-instance state; without one, outgoing-handler.handle has no
// per-request bound on calls and the calls end only as the guest drops
// them or the instance closes.
type StateHolder interface {
	HTTPState() *State
}

// stateOf returns the State of the instance calling, or nil.
func stateOf(ctx context.Context) *State {
	if inst := component.InstanceOf(ctx); inst != nil {
		if h, ok := inst.Data.(StateHolder); ok {
			return h.HTTPState()
		}
	}
	return nil
}

// end ends every outgoing call of the request and resets the count.
func (s *State) end() {
	s.mu.Lock()
	open := s.open
	s.open, s.calls = nil, 0
	s.mu.Unlock()
	for _, c := range open {
		c.close()
	}
}

// outgoing is the outgoing-handler of one host.
type outgoing struct {
	h *outbound.Host
}

func (o *outgoing) maxCalls() int {
	switch n := o.h.MaxCalls; {
	case n == 0:
		return outbound.DefaultMaxPerRequest
	case n < 0:
		return 0
	default:
		return n
	}
}

func (o *outgoing) maxBody() int64 {
	switch n := o.h.MaxResponseBody; {
	case n == 0:
		return outbound.DefaultMaxBody
	case n < 0:
		return 0
	default:
		return n
	}
}

// handle is outgoing-handler.handle: it checks the request, counts it and
// sends it through the outbound policy in the background. What the
// policy refuses comes back as the future's error-code.
// st is the calling instance's state, nil for none.
func (o *outgoing) handle(ctx context.Context, st *State, r *outgoingRequest, opts *requestOptions) cabi.Result {
	if r.authority == nil || *r.authority == "" {
		return fail(errorCode{Case: ecHTTPRequestURIInvalid})
	}
	scheme := "http"
	if r.scheme != nil {
		scheme = strings.ToLower(*r.scheme)
	}
	if scheme != "http" && scheme != "https" {
		return fail(errorCode{Case: ecHTTPProtocolError})
	}
	pq := "/"
	if r.pathWithQuery != nil && *r.pathWithQuery != "" {
		pq = *r.pathWithQuery
	}
	u, err := url.Parse(scheme + "://" + *r.authority + pq)
	if err != nil || u.Host != *r.authority || u.User != nil {
		return fail(errorCode{Case: ecHTTPRequestURIInvalid})
	}
	header := r.headers.header()
	header.Del("Host") // the authority is the host
	length := int64(0)
	if r.body != nil {
		length = -1 // chunked, unless declared
	}
	if cl := header.Get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			return fail(errorCode{Case: ecHTTPProtocolError})
		}
		if r.body != nil {
			length = n
		}
		header.Del("Content-Length")
	}
	if st != nil {
		st.mu.Lock()
		over := o.maxCalls() > 0 && st.calls >= o.maxCalls()
		if !over {
			st.calls++
		}
		st.mu.Unlock()
		if over {
			return fail(errorCode{Case: ecConnectionLimitReached})
		}
	}
	r.headers.immutable = true
	id := ""
	if st != nil {
		id = st.ID
	}
	// The call lives past this host call, up to the end of the request
	// (State.end), the guest dropping it, or the outbound timeout.
	cctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	var timeout *time.Timer
	if t := o.h.Timeout; t > 0 {
		timeout = time.AfterFunc(t, func() { cancel(context.DeadlineExceeded) })
	}
	req := (&http.Request{
		Method:        r.method,
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Host:          u.Host,
		Body:          http.NoBody,
		ContentLength: length,
	}).WithContext(cctx)
	if r.body != nil {
		req.Body = r.body.pipe
	}
	call := &outgoingCall{
		req: req,
		cancel: func() {
			stop()
			if timeout != nil {
				timeout.Stop()
			}
			cancel(context.Canceled)
		},
		done:  make(chan struct{}),
		limit: o.maxBody(),
	}
	if st != nil {
		st.mu.Lock()
		st.open = append(st.open, call)
		st.mu.Unlock()
	}
	var headTimer *time.Timer
	if head := headTimeout(opts); head > 0 {
		headTimer = time.AfterFunc(head, func() { cancel(errHeadTimeout) })
	}
	go func() {
		var resp *http.Response
		var err error
		if o.h.Send == nil {
			err = fmt.Errorf("%s %s: %w: no outbound calls are allowed", req.Method, req.URL.Redacted(), outbound.ErrRefused)
		} else {
			resp, err = o.h.Send(id, req, false)
		}
		if headTimer != nil {
			headTimer.Stop()
		}
		if err != nil {
			if c := context.Cause(cctx); c != nil && !errors.Is(err, outbound.ErrRefused) {
				err = fmt.Errorf("%w (%w)", err, c)
			}
			if r.body != nil {
				r.body.pipe.Close()
			}
		}
		call.mu.Lock()
		if call.taken && resp != nil {
			// Closed while the send ran.
			resp.Body.Close()
			resp = nil
		}
		call.resp, call.err = resp, err
		call.mu.Unlock()
		close(call.done)
	}()
	return ok(call)
}

// errHeadTimeout is the cause of a call whose response head took longer
// than its request-options allowed.
var errHeadTimeout = errors.New("no response head within the first-byte or connect timeout")

// headTimeout is the longest a response head may take by opts: the
// smaller of the connect and first-byte timeouts; 0 for none.
func headTimeout(opts *requestOptions) time.Duration {
	if opts == nil {
		return 0
	}
	var d time.Duration
	for _, t := range []*uint64{opts.connect, opts.firstByte} {
		if t != nil && *t > 0 && (d == 0 || time.Duration(*t) < d) {
			d = time.Duration(*t)
		}
	}
	return d
}

// get is future-incoming-response.get.
func (c *outgoingCall) get() cabi.Option {
	select {
	case <-c.done:
	default:
		return none
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.taken {
		return some(fail(nil))
	}
	c.taken = true
	if c.err != nil {
		return some(ok(fail(errorCodeOf(c.err))))
	}
	resp := c.resp
	if c.limit > 0 && resp.ContentLength > c.limit {
		resp.Body.Close()
		return some(ok(fail(errorCode{Case: ecHTTPResponseBodySize, Value: some(uint64(resp.ContentLength))})))
	}
	c.body = &incomingBody{
		r:       resp.Body,
		closer:  resp.Body,
		limit:   c.limit,
		trailer: func() http.Header { return resp.Trailer },
		tooBig:  errorCode{Case: ecHTTPResponseBodySize, Value: none},
	}
	return some(ok(ok(&incomingResponse{resp: resp, headers: fieldsFromHeader(resp.Header), body: c.body})))
}

// incomingResponse is the Go value of an incoming-response.
type incomingResponse struct {
	resp     *http.Response
	headers  *fields
	body     *incomingBody
	consumed bool
}

func optString(s *string) cabi.Option {
	if s == nil {
		return none
	}
	return some(*s)
}

func stringOpt(v any) *string {
	o := v.(cabi.Option)
	if !o.Some {
		return nil
	}
	s := o.Value.(string)
	return &s
}

func durationOpt(v any) *uint64 {
	o := v.(cabi.Option)
	if !o.Some {
		return nil
	}
	d := o.Value.(uint64)
	return &d
}

func optDuration(d *uint64) cabi.Option {
	if d == nil {
		return none
	}
	return some(*d)
}

// outgoingFuncs are the functions of outgoing-request, request-options,
// future-incoming-response and incoming-response.
func outgoingFuncs() map[string]*component.HostFunc {
	req := component.Param{Name: "self", Type: borrow(outgoingRequestRes)}
	ro := component.Param{Name: "self", Type: borrow(requestOptionsRes)}
	fut := component.Param{Name: "self", Type: borrow(futureIncomingResponseRes)}
	resp := component.Param{Name: "self", Type: borrow(incomingResponseRes)}
	optStr := cabi.OptionOf(cabi.StringType)
	optDur := cabi.OptionOf(durationType)
	// unsent guards the setters: a request's fields are fixed once sent.
	setter := func(name string, typ *cabi.Type, set func(r *outgoingRequest, v any) bool) *component.HostFunc {
		return &component.HostFunc{
			Params:  []component.Param{req, {Name: name, Type: typ}},
			Results: []*cabi.Type{unitResult},
			Call: func(_ context.Context, args []any) ([]any, error) {
				if !set(args[0].(*outgoingRequest), args[1]) {
					return []any{fail(nil)}, nil
				}
				return []any{ok(nil)}, nil
			},
		}
	}
	getter := func(res component.Param, typ *cabi.Type, get func(v any) any) *component.HostFunc {
		return &component.HostFunc{
			Params:  []component.Param{res},
			Results: []*cabi.Type{typ},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{get(args[0])}, nil
			},
		}
	}
	optionSetter := func(name string, field func(o *requestOptions) **uint64) *component.HostFunc {
		return &component.HostFunc{
			Params:  []component.Param{ro, {Name: "duration", Type: optDur}},
			Results: []*cabi.Type{unitResult},
			Call: func(_ context.Context, args []any) ([]any, error) {
				*field(args[0].(*requestOptions)) = durationOpt(args[1])
				return []any{ok(nil)}, nil
			},
		}
	}
	return map[string]*component.HostFunc{
		"[constructor]outgoing-request": {
			Params:  []component.Param{{Name: "headers", Type: own(fieldsRes)}},
			Results: []*cabi.Type{own(outgoingRequestRes)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{&outgoingRequest{method: http.MethodGet, headers: args[0].(*fields)}}, nil
			},
		},
		"[method]outgoing-request.body": {
			Params:  []component.Param{req},
			Results: []*cabi.Type{cabi.ResultOf(own(outgoingBodyRes), nil)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				r := args[0].(*outgoingRequest)
				if r.body != nil {
					return []any{fail(nil)}, nil
				}
				r.body = &outgoingBody{pipe: newPipe()}
				r.headers.immutable = true
				return []any{ok(r.body)}, nil
			},
		},
		"[method]outgoing-request.method": getter(req, methodType, func(v any) any {
			return methodValue(v.(*outgoingRequest).method)
		}),
		"[method]outgoing-request.set-method": setter("method", methodType, func(r *outgoingRequest, v any) bool {
			m, valid := methodOf(v.(cabi.Variant))
			if valid {
				r.method = m
			}
			return valid
		}),
		"[method]outgoing-request.path-with-query": getter(req, optStr, func(v any) any {
			return optString(v.(*outgoingRequest).pathWithQuery)
		}),
		"[method]outgoing-request.set-path-with-query": setter("path-with-query", optStr, func(r *outgoingRequest, v any) bool {
			p := stringOpt(v)
			if p != nil && (!strings.HasPrefix(*p, "/") || strings.ContainsAny(*p, " \r\n\x00#")) {
				return false
			}
			r.pathWithQuery = p
			return true
		}),
		"[method]outgoing-request.scheme": getter(req, cabi.OptionOf(schemeType), func(v any) any {
			if s := v.(*outgoingRequest).scheme; s != nil {
				return some(schemeValue(*s))
			}
			return none
		}),
		"[method]outgoing-request.set-scheme": setter("scheme", cabi.OptionOf(schemeType), func(r *outgoingRequest, v any) bool {
			o := v.(cabi.Option)
			if !o.Some {
				r.scheme = nil
				return true
			}
			s := schemeOf(o.Value.(cabi.Variant))
			if !validScheme(s) {
				return false
			}
			r.scheme = &s
			return true
		}),
		"[method]outgoing-request.authority": getter(req, optStr, func(v any) any {
			return optString(v.(*outgoingRequest).authority)
		}),
		"[method]outgoing-request.set-authority": setter("authority", optStr, func(r *outgoingRequest, v any) bool {
			a := stringOpt(v)
			if a != nil && !validAuthority(*a) {
				return false
			}
			r.authority = a
			return true
		}),
		"[method]outgoing-request.headers": getter(req, own(fieldsRes), func(v any) any {
			return v.(*outgoingRequest).headers
		}),
		"[constructor]request-options": {
			Results: []*cabi.Type{own(requestOptionsRes)},
			Call: func(context.Context, []any) ([]any, error) {
				return []any{&requestOptions{}}, nil
			},
		},
		"[method]request-options.connect-timeout": getter(ro, optDur, func(v any) any {
			return optDuration(v.(*requestOptions).connect)
		}),
		"[method]request-options.set-connect-timeout": optionSetter("connect", func(o *requestOptions) **uint64 {
			return &o.connect
		}),
		"[method]request-options.first-byte-timeout": getter(ro, optDur, func(v any) any {
			return optDuration(v.(*requestOptions).firstByte)
		}),
		"[method]request-options.set-first-byte-timeout": optionSetter("first-byte", func(o *requestOptions) **uint64 {
			return &o.firstByte
		}),
		"[method]request-options.between-bytes-timeout": getter(ro, optDur, func(v any) any {
			return optDuration(v.(*requestOptions).betweenBytes)
		}),
		"[method]request-options.set-between-bytes-timeout": optionSetter("between-bytes", func(o *requestOptions) **uint64 {
			return &o.betweenBytes
		}),
		"[method]future-incoming-response.subscribe": getter(fut, own(wasip2.PollableType), func(v any) any {
			return wasip2.ChanPollable(v.(*outgoingCall).done)
		}),
		"[method]future-incoming-response.get": getter(fut,
			cabi.OptionOf(cabi.ResultOf(cabi.ResultOf(own(incomingResponseRes), errorCodeType), nil)),
			func(v any) any { return v.(*outgoingCall).get() }),
		"[method]incoming-response.status": getter(resp, statusCodeType, func(v any) any {
			return uint16(v.(*incomingResponse).resp.StatusCode)
		}),
		"[method]incoming-response.headers": getter(resp, own(fieldsRes), func(v any) any {
			return v.(*incomingResponse).headers
		}),
		"[method]incoming-response.consume": getter(resp, cabi.ResultOf(own(incomingBodyRes), nil), func(v any) any {
			r := v.(*incomingResponse)
			if r.consumed {
				return fail(nil)
			}
			r.consumed = true
			return ok(r.body)
		}),
	}
}

// validScheme reports whether s may be a URL scheme (RFC 3986 §3.1).
func validScheme(s string) bool {
	if s == "" || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validAuthority reports whether s may be a request's authority: a host
// and an optional port, no user information, path or spaces.
func validAuthority(s string) bool {
	if s == "" || strings.ContainsAny(s, "/?#@ \t\r\n\\") {
		return false
	}
	u, err := url.Parse("http://" + s)
	return err == nil && u.Host == s
}

// handlerFuncs are the functions of wasi:http/outgoing-handler.
func (o *outgoing) handlerFuncs() map[string]*component.HostFunc {
	return map[string]*component.HostFunc{
		"handle": {
			Params: []component.Param{
				{Name: "request", Type: own(outgoingRequestRes)},
				{Name: "options", Type: cabi.OptionOf(own(requestOptionsRes))},
			},
			Results: []*cabi.Type{cabi.ResultOf(own(futureIncomingResponseRes), errorCodeType)},
			Call: func(ctx context.Context, args []any) ([]any, error) {
				var opts *requestOptions
				if op := args[1].(cabi.Option); op.Some {
					opts = op.Value.(*requestOptions)
				}
				return []any{o.handle(ctx, stateOf(ctx), args[0].(*outgoingRequest), opts)}, nil
			},
		},
	}
}
