package host

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/host/reqinfo"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// caller runs one request on an isolate under the handler timeout; fired
// reports that the timeout ended the call, or fired as it ended.
type caller func(iso *isolate, st *isolateState, w http.ResponseWriter, r *http.Request) (fired bool, out executor.Outcome)

// acquire takes an isolate of the generation now serving. A generation
// swapped out by a reload between loading it and acquiring from it answers
// ErrClosed; the request then goes to the new one.
func (h *Handler) acquire(ctx context.Context) (*isolate, *generation, error) {
	for {
		gen := h.cur.Load()
		iso, err := gen.pool.Acquire(ctx)
		if errors.Is(err, runtimepool.ErrClosed) && h.cur.Load() != gen {
			continue
		}
		return iso, gen, err
	}
}

// caller returns how a request is run on an isolate of p under the handler
// timeout, for p's interrupt mode: the one place that tells them apart.
//   - No timeout, or a module that cannot be interrupted: the call runs
//     with a context that is never done (so that wazero starts no watchdog
//     for it, and the guest reuses its own context).
//   - InterruptGlobal: the Handler's watchdog sets the isolate's interrupt
//     global once the call's time is up.
//   - InterruptContext: the call's context carries the timeout, and wazero
//     closes the module when it is done; Interrupt cancels it too.
func (h *Handler) caller(p *pool) caller {
	switch {
	case h.cfg.HandlerTimeout <= 0 || p.InterruptMode() == runtimepool.InterruptNone:
		return func(_ *isolate, st *isolateState, w http.ResponseWriter, r *http.Request) (bool, executor.Outcome) {
			return false, st.guest.Handle(context.Background(), w, r)
		}
	case p.InterruptMode() == runtimepool.InterruptGlobal:
		return func(iso *isolate, st *isolateState, w http.ResponseWriter, r *http.Request) (bool, executor.Outcome) {
			d := h.wd.arm(st, iso)
			out := st.guest.Handle(context.Background(), w, r)
			return h.wd.disarm(st, d), out
		}
	default:
		return func(iso *isolate, st *isolateState, w http.ResponseWriter, r *http.Request) (bool, executor.Outcome) {
			ctx, cancel := context.WithTimeout(h.base, h.cfg.HandlerTimeout)
			defer cancel()
			// wazero's check of the context runs in the guest's code,
			// not while it sleeps in poll_oneoff: wake it.
			// Once woken, its later sleeps end at once: it must not
			// serve again.
			stop := context.AfterFunc(ctx, func() { iso.Interrupt() })
			out := st.guest.Handle(ctx, w, r)
			deadline := errors.Is(ctx.Err(), context.DeadlineExceeded)
			woken := !stop() && deadline
			return woken || out.Err != nil && deadline, out
		}
	}
}

// ServeHTTP runs r through an isolate. A guest fault discards the isolate
// and answers a generic 500 (504 for a timeout, 413 for a body over the
// limit) with a request id; the detail goes only to the log under the same
// id. A full queue answers 503 with Retry-After.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !limitBody(w, r, h.cfg.MaxBody) {
		h.errorDeadline(w)
		reqinfo.WriteError(w, http.StatusRequestEntityTooLarge, "413 request body too large", "")
		return
	}
	info := reqinfo.Of(w) // nil without a server in front
	var start time.Time
	if info != nil {
		// The server's start: the wait measured from there costs no
		// clock read here, and counts the server's own work before
		// this handler too (well under a microsecond).
		if start = info.Start; start.IsZero() {
			start = time.Now()
		}
	}
	iso, gen, err := h.acquire(r.Context())
	var now time.Time // one clock read for the wait, the deadlines and the call
	if info != nil {
		now = time.Now()
		info.Queued = now.Sub(start)
	}
	if err != nil {
		switch {
		case errors.Is(err, runtimepool.ErrOverloaded):
			h.errorDeadline(w)
			w.Header().Set("Retry-After", "1")
			reqinfo.WriteError(w, http.StatusServiceUnavailable, "503 server busy", "")
		case errors.Is(err, runtimepool.ErrClosed):
			h.errorDeadline(w)
			w.Header().Set("Retry-After", "1")
			reqinfo.WriteError(w, http.StatusServiceUnavailable, "503 server shutting down", "")
		}
		// Otherwise the client went away while waiting: nobody reads
		// an answer.
		return
	}
	pool := gen.pool
	h.setDeadlines(w, r, now)
	if h.interrupted.Load() {
		pool.Release(iso)
		w.Header().Set("Retry-After", "1")
		reqinfo.WriteError(w, http.StatusServiceUnavailable, "503 server shutting down", "")
		return
	}
	st := iso.Value
	if h.prof != nil {
		st.prof.inCall.Store(true)
	}
	if info != nil {
		info.Isolate, info.Called, start = iso.ID, true, now
	}
	var span trace.Span
	if info == nil || !info.Untraced {
		r, span = observe.ChildSpan(r, "guest", trace.SpanKindInternal)
	}
	if len(st.exts) > 0 {
		deadline := h.extDeadline()
		ctx := r.Context()
		if info != nil && info.ID != "" {
			ctx = reqinfo.WithID(ctx, info.ID) // for the extensions' log lines
		}
		for _, e := range st.exts {
			e.Begin(ctx, deadline)
		}
	}
	fired, out := gen.call(iso, st, w, r)
	for _, e := range st.exts {
		e.End()
	}
	if info != nil {
		info.Guest = time.Since(start)
	}
	if span != nil {
		span.SetAttributes(attribute.String("wasmserve.isolate", iso.ID))
		observe.EndSpan(span, out.Err)
	}
	if h.prof != nil {
		st.prof.inCall.Store(false)
		if st.prof.due.CompareAndSwap(true, false) {
			h.prof.pending.Add(-1) // due too late: the call ended first
		}
	}
	h.finish(w, r, pool, iso, fired, out)
}

// finish ends a request on iso by its outcome: the isolate goes back to the
// pool or is discarded, and what went wrong is answered.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, pool *pool, iso *isolate, fired bool, out executor.Outcome) {
	switch {
	case out.Err == nil && fired:
		// The watchdog fired as the call ended: the interrupt global
		// may be set, so the isolate cannot serve again.
		pool.Discard(iso, errors.New("handler timeout fired as the call ended"))
		return
	case out.Err == nil && out.Reroute != nil:
		pool.Release(iso)
		h.ServeHTTP(w, out.Reroute)
		return
	case out.Err == nil && out.ClientErr != nil:
		// The client's fault: the guest finished normally.
		pool.Release(iso)
		h.clientBodyError(w, r, out.ClientErr, out.Committed)
		return
	case out.Err == nil:
		pool.Release(iso)
		return
	}
	err := out.Err
	pool.Discard(iso, err)
	var id string
	switch info := reqinfo.Of(w); {
	case info != nil:
		id = info.ID // the access log's and X-Request-Id's
	case out.RequestID != "":
		id = out.RequestID // the one the executor logged under
	default:
		id = reqinfo.NewID()
	}
	code, text := http.StatusInternalServerError, "500 handler error"
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		code, text = http.StatusRequestEntityTooLarge, "413 request body too large"
	case fired:
		code, text = http.StatusGatewayTimeout, "504 handler timeout"
	case h.interrupted.Load():
		code, text = http.StatusServiceUnavailable, "503 server shutting down"
	}
	h.log.Error("guest failed", "request_id", id, "isolate", iso.ID, "status", code,
		"method", r.Method, "uri", r.RequestURI, "err", err)
	if out.Committed {
		// The status line is out: the only honest signal left is to
		// cut the response short.
		panic(http.ErrAbortHandler)
	}
	clear(w.Header())
	h.errorDeadline(w)
	reqinfo.WriteError(w, code, text, id)
}

// extDeadline is the deadline of the extensions' work for a request
// starting now (an outbound call): its handler timeout, less a tenth of it
// (at most a second) left to the guest to answer with the work's failure.
// The connection's write deadline falls at the handler timeout itself
// (setDeadlines), so an answer written after a call that ran to the full
// timeout would find the connection closed.
func (h *Handler) extDeadline() time.Time {
	t := h.cfg.HandlerTimeout
	if t <= 0 {
		return time.Time{}
	}
	return time.Now().Add(t - min(t/10, time.Second))
}

// DefaultReadTimeout and DefaultWriteTimeout are the read and write
// timeouts of `wasmserve serve` (see HandlerConfig.ReadTimeout): a minute
// for a body to arrive and for a response to leave, so that a client that
// stalls holds an isolate a minute at most even without a handler timeout.
const (
	DefaultReadTimeout  = 60 * time.Second
	DefaultWriteTimeout = 60 * time.Second
)

// setDeadlines sets the connection's read and write deadlines for the
// request w answers (see HandlerConfig.ReadTimeout) once the request has an
// isolate, from now (read from the clock when zero), as the handler
// timeout counts. Nothing needs clearing
// when the request comes in: net/http sets the read deadline of each
// HTTP/1 request itself and clears the write deadline once a response is
// finished, and every HTTP/2 stream starts without one; the wait in the
// queue has its own bound. They are not cleared after the request either:
// net/http reads what is left of an unread body after the handler, and
// sends what is buffered, and a client that stalls must not hold the
// connection then.
func (h *Handler) setDeadlines(w http.ResponseWriter, r *http.Request, now time.Time) {
	read, write := h.cfg.ReadTimeout, h.cfg.WriteTimeout
	if t := h.cfg.HandlerTimeout; t > 0 {
		read, write = minPositive(read, t), minPositive(write, t)
	}
	if r.Body == nil || r.Body == http.NoBody {
		// Nothing to read: and a read deadline passing while net/http
		// waits for the next request on the connection would cancel
		// this request's context.
		read = 0
	}
	if read <= 0 && write <= 0 {
		return
	}
	d := deadlinesOf(w)
	if d == nil {
		return // a ResponseWriter that is no connection's: nothing to bound
	}
	if now.IsZero() {
		now = time.Now()
	}
	if read > 0 {
		d.SetReadDeadline(now.Add(read))
		r.Body = &bodyDeadline{ReadCloser: r.Body, d: d}
	}
	if write > 0 {
		d.SetWriteDeadline(now.Add(write))
	}
}

// deadlines is what net/http's HTTP/1 and HTTP/2 ResponseWriters offer
// http.ResponseController to set a connection's (or stream's) deadlines.
type deadlines interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// deadlinesOf finds the deadlines of w, or of the writer it wraps (through
// Unwrap, as http.ResponseController does), or nil. It is the
// ResponseController's search without its allocations: one controller and,
// when a writer has no deadlines, one wrapped error per call, which were
// most of the host's allocations per request.
func deadlinesOf(w http.ResponseWriter) deadlines {
	for {
		switch t := w.(type) {
		case deadlines:
			return t
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}

// bodyDeadline clears the connection's read deadline once the body has
// been read to its end: net/http then reads the connection in the
// background to notice a client that hangs up, and a read deadline passing
// there would cancel the request's context (and with it a request to the
// upstream) though the body is long read.
type bodyDeadline struct {
	io.ReadCloser
	d deadlines
}

func (b *bodyDeadline) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.d.SetReadDeadline(time.Time{})
	}
	return n, err
}

func minPositive(a, b time.Duration) time.Duration {
	if a <= 0 || (b > 0 && b < a) {
		return b
	}
	return a
}

// clientBodyError answers a request whose body could not be read: 413 over
// the body limit, 408 past the read timeout, 400 otherwise (a malformed
// chunked encoding, a client that hung up). It is the client's doing, so it
// is logged at debug level only.
func (h *Handler) clientBodyError(w http.ResponseWriter, r *http.Request, berr error, committed bool) {
	code, text := http.StatusBadRequest, "400 malformed request body"
	var tooBig *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(berr, &tooBig):
		code, text = http.StatusRequestEntityTooLarge, "413 request body too large"
	case errors.Is(berr, os.ErrDeadlineExceeded) || errors.As(berr, &ne) && ne.Timeout():
		code, text = http.StatusRequestTimeout, "408 request body timeout"
	}
	h.log.Debug("client sent a malformed body", "status", code, "method", r.Method, "uri", r.RequestURI,
		"remote", r.RemoteAddr, "err", berr)
	if committed {
		panic(http.ErrAbortHandler)
	}
	clear(w.Header())
	w.Header().Set("Connection", "close")
	h.errorDeadline(w)
	reqinfo.WriteError(w, code, text, "")
}

// errorWriteGrace is how long the host's own error answer to a request may
// take to write, after the request's write deadline may have passed.
const errorWriteGrace = time.Second

// errorDeadline gives the error answer of a request that may have run out
// of time errorWriteGrace to be written, when writes have a deadline at all
// (otherwise it would outlive the request).
func (h *Handler) errorDeadline(w http.ResponseWriter) {
	if h.cfg.WriteTimeout > 0 || h.cfg.HandlerTimeout > 0 {
		if d := deadlinesOf(w); d != nil {
			d.SetWriteDeadline(time.Now().Add(errorWriteGrace))
		}
	}
}

// limitBody bounds r's body to max bytes (0: no bound). It reports false
// when the declared length is already over; a body of unknown length is
// wrapped in http.MaxBytesReader, whose error read_body turns into a trap
// answered with 413. A request without a body (net/http gives it
// http.NoBody) is left alone: it cannot go over, and wrapping it would
// cost every GET an allocation.
func limitBody(w http.ResponseWriter, r *http.Request, max int64) bool {
	if max <= 0 || r.Body == nil || r.Body == http.NoBody {
		return true
	}
	if r.ContentLength > max {
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	return true
}
