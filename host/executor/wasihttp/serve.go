package wasihttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// ServeOptions are the limits of serving one request.
type ServeOptions struct {
	// MaxBody bounds the request body in bytes; 0 means none. Reading
	// past it fails the guest's stream, and Result.ClientErr is an
	// *http.MaxBytesError.
	MaxBody int64
}

// Result is how serving a request to a component ended.
type Result struct {
	// Committed says the status and headers are written to the client:
	// the only answer left to a failure is to cut the response short.
	Committed bool
	// Status is the status the guest answered; 0 if it answered none.
	Status int
	// Written counts the response body bytes the guest wrote.
	Written int64
	// Err is why the guest's answer is not a response: it trapped
	// (Trapped; the instance is broken), never set the response-outparam
	// or set it to an error-code (NoResponse; answer 500), or left the
	// response body unfinished.
	Err error
	// Trapped says Err is a trap: the instance cannot serve again.
	Trapped bool
	// NoResponse says the guest returned no response: answer 500.
	NoResponse bool
	// ClientErr is the client's fault: reading its request body failed
	// (an *http.MaxBytesError past MaxBody: answer 413), or writing the
	// response to it did.
	ClientErr error
}

// Outcome is the result as the handler core's executor contract has it: a
// trap or a missing response is Err (the core discards the instance and
// answers 500, or 413 when the guest failed on a body over the limit), a
// body the client could not send is ClientErr.
func (r Result) Outcome() executor.Outcome {
	out := executor.Outcome{Committed: r.Committed}
	switch {
	case r.Err != nil && r.ClientErr != nil:
		out.Err = fmt.Errorf("%w (reading the request body: %w)", r.Err, r.ClientErr)
	case r.Err != nil:
		out.Err = r.Err
	case r.ClientErr != nil:
		out.ClientErr = r.ClientErr
	}
	return out
}

// ErrNoResponse is the Err of a guest that returned without setting its
// response-outparam.
var ErrNoResponse = errors.New("the guest returned without setting the response-outparam")

// Serve serves r to an instance of a component: it calls handle (the
// export wasi:http/incoming-handler#handle) with an incoming-request made
// from r and a response-outparam bound to w, and returns how it ended.
// Serve writes nothing to w but what the guest answers: on a failure not
// Committed, the caller answers (500, or 413 for a body over the limit).
// The instance is used by one goroutine at a time; Serve ends the outgoing
// requests the guest left open (with a StateHolder), and nothing the
// instance keeps reaches w or r after it returns.
func Serve(ctx context.Context, inst *component.Instance, handle *component.Func, w http.ResponseWriter, r *http.Request, opts ServeOptions) Result {
	if h, ok := inst.Data.(StateHolder); ok {
		if st := h.HTTPState(); st != nil {
			defer st.end()
		}
	}
	// The guest may write its response while it reads the request body
	// (an echo streams one into the other): without full duplex, an
	// HTTP/1 server drops the unread body at the first write.
	if err := http.NewResponseController(w).EnableFullDuplex(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return Result{Err: fmt.Errorf("enabling full duplex: %w", err)}
	}
	req := newIncomingRequest(r, opts.MaxBody)
	req.body.ctx = ctx
	out := &outparam{w: w, noBody: r.Method == http.MethodHead, declared: -1}
	// A guest blocked reading the body from, or writing the response to,
	// a slow client is inside the host, where no interrupt reaches it:
	// when ctx ends (the handler timeout), the connection's deadlines
	// end the read or write, and the guest traps on the next wait.
	stop := context.AfterFunc(ctx, func() {
		rc := http.NewResponseController(w)
		now := time.Now()
		rc.SetReadDeadline(now)
		rc.SetWriteDeadline(now)
	})
	defer stop()
	defer func() {
		// The instance may outlive the request with handles to both.
		out.ended = true
		req.body.mu.Lock()
		req.body.r = errReader{errRequestEnded}
		req.body.mu.Unlock()
	}()
	_, err := inst.Call(ctx, handle, req, out)
	res := Result{Committed: out.committed, Written: out.written, ClientErr: req.body.clientErr}
	if out.resp != nil {
		res.Status = out.resp.status
	}
	if out.writeErr != nil && res.ClientErr == nil {
		res.ClientErr = out.writeErr
	}
	switch {
	case err != nil:
		res.Err, res.Trapped = err, true
	case !out.set:
		res.Err, res.NoResponse = ErrNoResponse, true
	case out.errCode != nil:
		res.Err, res.NoResponse = fmt.Errorf("the guest answered error-code %s", errorCodeName(*out.errCode)), true
	case out.resp.body != nil && !out.resp.body.finished && out.writeErr == nil:
		b := out.resp.body
		if b.dropped || out.written > 0 || out.declared > 0 {
			// Dropped unfinished (the specification's corrupted
			// response), or cut short after bytes went out.
			res.Err = errors.New("the guest did not finish the response body")
			break
		}
		// The guest returned holding an empty body it never finished
		// (StarlingMonkey does so when it answers a thrown error with
		// its 500): nothing can follow, so the empty body is the body.
		b.finished = true
	}
	return res
}

// errRequestEnded is what a body read after its request ended fails with.
var errRequestEnded = errors.New("the request has ended")

// errorCodeName names an error-code case, with its payload if a string.
func errorCodeName(c errorCode) string {
	name := errorCodeType.Cases[c.Case].Name
	if o, ok := c.Value.(cabi.Option); ok && o.Some {
		if s, ok := o.Value.(string); ok {
			return fmt.Sprintf("%s(%q)", name, s)
		}
	}
	return name
}
