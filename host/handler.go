package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasmserve/wasmserve/abi"
	"github.com/wasmserve/wasmserve/abi/outbound"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// HandlerConfig configures the module a [Handler] runs. The zero value is
// valid: one isolate per CPU, no compilation cache, wazero's memory limit,
// empty guest config, no handler timeout, no body limit, unbounded queue,
// isolates reused forever, no WASI grants, guest output limited to 100 lines
// a second, logs discarded.
type HandlerConfig struct {
	// Isolates is the pool size; 0 means DefaultIsolates (one per CPU,
	// or UpstreamIsolatesPerCPU per CPU in middleware mode), negative is
	// an error.
	Isolates int
	// CacheDir is the on-disk compilation cache; empty disables it.
	CacheDir string
	// MemoryLimit caps each isolate's linear memory in bytes, rounded
	// down to 64 KiB pages; 0 means wazero's 4 GiB. Growth beyond it
	// fails inside the guest (memory.grow returns -1).
	MemoryLimit uint64
	// GuestConfig is what get_config returns to the guest.
	GuestConfig []byte
	// Logger receives guest logs, guest output and faults. Nil discards.
	Logger *slog.Logger

	// HandlerTimeout bounds one request's time inside the guest; past it
	// the guest is interrupted and the client gets 504. The interruption
	// comes less than two ticks of a sixteenth of the timeout (at least
	// 1 ms, at most 1 s) after it. 0 means no timeout, and then guest
	// calls are not interruptible at all, which makes them cheaper (see
	// RATIONALE.md).
	HandlerTimeout time.Duration
	// MaxBody bounds the request body in bytes; a bigger one gets 413.
	// 0 means no bound.
	MaxBody int64
	// ReadTimeout bounds how long reading a request's body may take,
	// counted from when an isolate takes the request: a read past it
	// fails, the guest reads the body as ended, the client gets 408 and
	// the isolate serves on. WriteTimeout bounds writing the response the
	// same way: a write past it fails and the connection is closed. With
	// a HandlerTimeout, neither outlasts it, so that a client that stalls
	// cannot hold an isolate in a host call past the handler timeout. 0
	// means no bound of their own. wasmserve serve uses
	// [DefaultReadTimeout] and [DefaultWriteTimeout].
	ReadTimeout time.Duration
	// WriteTimeout: see ReadTimeout.
	WriteTimeout time.Duration
	// QueueTimeout bounds the wait for a free isolate, and MaxQueue the
	// number of requests waiting; beyond either the client gets 503 with
	// Retry-After. 0 means unbounded.
	QueueTimeout time.Duration
	// MaxQueue: see QueueTimeout.
	MaxQueue int
	// MaxRequestsPerIsolate retires an isolate after this many requests;
	// 0 reuses isolates forever, 1 gives every request a fresh one.
	MaxRequestsPerIsolate int
	// Dirs and Env are the WASI grants; none by default.
	Dirs []runtimepool.Dir
	// Env: see Dirs; KEY=VALUE pairs.
	Env []string
	// OutputRate bounds guest stdout/stderr lines logged per second,
	// across all isolates, with bursts of twice as many; lines beyond are
	// dropped and counted. 0 means 100; negative means no bound.
	OutputRate float64

	// Upstream is the origin a request goes to when the guest returns
	// next=1 (middleware mode), an http or https URL; empty answers 404.
	Upstream string
	// UpstreamMaxIdle and UpstreamTimeout tune the proxy to Upstream: see
	// ProxyConfig's MaxIdle and Timeout, whose zero values they share.
	UpstreamMaxIdle int
	// UpstreamTimeout: see UpstreamMaxIdle.
	UpstreamTimeout time.Duration
	// MaxBufferedBody bounds an upstream response body held for a guest
	// with the buffer_response feature; 0 means MaxBody when that is
	// set, else 10 MiB.
	MaxBufferedBody int64

	// GuestProfiler compiles the module with the guest profiler (see
	// Handler.StartGuestProfile), which makes every guest function call
	// slower even while no profile is being collected; false adds nothing.
	GuestProfiler bool

	// ABI is how the module is run: one of ABINames. Empty or ABIAuto
	// chooses from the module's imports and exports, again at every
	// reload.
	ABI string

	// Outbound is the policy of guests' outbound HTTP calls, offered to
	// every executor; the zero value refuses them all.
	Outbound OutboundConfig
}

// Handler serves HTTP requests by running each inside an isolate of the
// module. It is an http.Handler. The module can be replaced while serving
// with [Handler.Reload].
type Handler struct {
	cfg HandlerConfig
	log *slog.Logger
	out *outputLimiter

	cur    atomic.Pointer[generation]
	gens   atomic.Uint64
	reload sync.Mutex          // one reload at a time, and none after Close
	closed bool                // under reload: Close has begun
	execs  map[string]executor // under reload: by kind name, made once each
	drains sync.WaitGroup      // old generations draining

	wd          *watchdog               // handler timeout in interrupt-global mode; nil without one
	prof        *guestProfiler          // nil without HandlerConfig.GuestProfiler
	cache       wazero.CompilationCache // shared by every generation; closed by Close
	base        context.Context         // parent of every guest call's context (fallback mode)
	interrupt   context.CancelFunc
	interrupted atomic.Bool
	pools       sync.Map // *pool → struct{}: generations not yet drained
	counts      handlerTotals

	ob  *outbound.Host  // the wasmserve_http module, for every generation
	obc *outboundClient // its policy, transport and counts
}

// pool and isolate are the runtimepool types with the host's per-isolate
// state.
type (
	pool    = runtimepool.Pool[*isolateState]
	isolate = runtimepool.Isolate[*isolateState]
)

// isolateState is the host's state of one isolate: its executor's instance,
// and the deadline of its call in flight, which the watchdog reads
// (interrupt-global mode).
type isolateState struct {
	guest    instance
	prof     profState       // used with HandlerConfig.GuestProfiler
	calls    *outbound.Calls // nil unless the module imports wasmserve_http
	iso      *isolate        // set at the first call, by the watchdog
	deadline atomic.Int64    // watchdog tick; 0 when idle, deadlineFired once interrupted
}

// generation is one compiled module, its pool, and how its requests are
// run. A reload makes a new one and drains the old.
type generation struct {
	n      uint64
	pool   *pool
	kind   executorKind
	abiWhy string // why kind was chosen
	// call runs one request on an isolate of pool under the handler
	// timeout, chosen once for the pool's interrupt mode. fired reports
	// that the timeout ended the call (or fired as it ended: the isolate
	// must not serve again).
	call func(iso *isolate, st *isolateState, w http.ResponseWriter, r *http.Request) (fired bool, err error)
}

// UpstreamIsolatesPerCPU is how many isolates per CPU an --isolates of 0
// means in middleware mode. A guest there holds its isolate while the
// upstream answers, a wait that costs no CPU: one isolate per CPU left a
// pass-through guest at 0.88x a native reverse proxy's req/s with 16
// clients on 2 CPUs, since requests queued for an isolate while the CPUs
// idled; four per CPU matched it (BENCHMARKS.md).
const UpstreamIsolatesPerCPU = 4

// DefaultIsolates is the pool size that HandlerConfig.Isolates 0 means:
// one per CPU, or UpstreamIsolatesPerCPU per CPU with an upstream.
func DefaultIsolates(upstream bool) int {
	if upstream {
		return UpstreamIsolatesPerCPU * runtime.NumCPU()
	}
	return runtime.NumCPU()
}

// NewHandler compiles wasm, checks it fits the handler ABI, and fills the
// isolate pool. Every error here is a module the server cannot run.
func NewHandler(ctx context.Context, wasm []byte, cfg HandlerConfig) (*Handler, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HandlerTimeout < 0 || cfg.MaxBody < 0 || cfg.UpstreamMaxIdle < 0 || cfg.UpstreamTimeout < 0 {
		return nil, errors.New("handler timeout, body limit, upstream idle connections and upstream timeout must not be negative")
	}
	if cfg.Upstream != "" {
		if _, err := ParseUpstream(cfg.Upstream); err != nil {
			return nil, err
		}
	}
	if cfg.Isolates == 0 {
		cfg.Isolates = DefaultIsolates(cfg.Upstream != "")
	}
	h := &Handler{cfg: cfg, log: logger, out: newOutputLimiter(cfg.OutputRate), execs: map[string]executor{}}
	var err error
	if h.ob, h.obc, err = newOutbound(cfg.Outbound, logger); err != nil {
		return nil, err
	}
	h.base, h.interrupt = context.WithCancel(context.Background())
	if cfg.HandlerTimeout > 0 {
		h.wd = newWatchdog(cfg.HandlerTimeout)
	}
	if cfg.GuestProfiler {
		h.prof = newGuestProfiler(DefaultProfileRate)
	}
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("opening compilation cache %s: %w", cfg.CacheDir, err)
		}
		h.cache = c
	} else {
		h.cache = wazero.NewCompilationCache()
	}
	gen, err := h.newGeneration(ctx, wasm)
	if err != nil {
		h.obc.tr.CloseIdleConnections()
		if h.wd != nil {
			h.wd.close()
		}
		h.cache.Close(ctx)
		return nil, err
	}
	h.cur.Store(gen)
	return h, nil
}

// newGeneration chooses the executor for wasm, compiles wasm into a new
// runtime and fills its pool. The caller holds h.reload, or is NewHandler.
func (h *Handler) newGeneration(ctx context.Context, wasm []byte) (*generation, error) {
	cfg := h.cfg
	// The one structural check of these bytes (wasmbin.Check, inside
	// ReadShape): each pass over a Go module costs milliseconds of a
	// start or reload, and the shape answers every later question.
	shape, err := readShape(wasm)
	if err != nil {
		return nil, err
	}
	kind, why, err := pickExecutor(cfg.ABI, shape)
	if err != nil {
		return nil, err
	}
	exec := h.execs[kind.name]
	if exec == nil {
		if exec, err = kind.make(h); err != nil {
			return nil, err
		}
		h.execs[kind.name] = exec
	}
	pc := runtimepool.Config[*isolateState]{
		Isolates:              cfg.Isolates,
		Prechecked:            true,
		CacheDir:              cfg.CacheDir,
		Cache:                 h.cache,
		MemoryLimitPages:      uint32(min(cfg.MemoryLimit>>16, 65536)),
		Interruptible:         cfg.HandlerTimeout > 0,
		StartTimeout:          cfg.HandlerTimeout,
		QueueTimeout:          cfg.QueueTimeout,
		MaxQueue:              cfg.MaxQueue,
		MaxRequestsPerIsolate: cfg.MaxRequestsPerIsolate,
		Dirs:                  cfg.Dirs,
		Env:                   cfg.Env,
		Prepare: func(ctx context.Context, id string) (context.Context, *isolateState) {
			ctx, inst := exec.prepare(ctx, id)
			return ctx, &isolateState{guest: inst}
		},
		Bind: func(st *isolateState, mod api.Module) error {
			if h.prof != nil {
				h.prof.bind(mod, st)
			}
			return st.guest.Bind(mod)
		},
		Output: func(id string) (io.Writer, io.Writer) {
			return newLineLogger(h.log, h.out, id, "stdout"), newLineLogger(h.log, h.out, id, "stderr")
		},
		Logger: h.log,
	}
	if cfg.MemoryLimit > 0 && pc.MemoryLimitPages == 0 {
		pc.MemoryLimitPages = 1
	}
	if h.prof != nil {
		pc.Listener = h.prof.factory()
	}
	exec.configure(&pc)
	h.offerOutbound(&pc, shape)
	p, err := runtimepool.New(ctx, wasm, pc)
	if err != nil {
		return nil, err
	}
	h.pools.Store(p, struct{}{})
	if h.interrupted.Load() {
		p.InterruptAll()
	}
	return &generation{n: h.gens.Add(1), pool: p, kind: kind, abiWhy: why, call: h.caller(p)}, nil
}

// Pool returns the isolate pool now serving, for stats and tests.
func (h *Handler) Pool() *runtimepool.Pool[*isolateState] { return h.cur.Load().pool }

// ABI describes how the module now serving is run: its executor's name (one
// of ABINames but ABIAuto), its title for people ("http-wasm handler"), and
// why it was chosen ("it imports http_handler").
func (h *Handler) ABI() (name, title, why string) {
	gen := h.cur.Load()
	return gen.kind.name, gen.kind.title, gen.abiWhy
}

// Compiled returns the compiled module now serving.
func (h *Handler) Compiled() wazero.CompiledModule { return h.Pool().Compiled() }

// Healthy reports whether the pool now serving keeps itself at full size.
func (h *Handler) Healthy() bool { return h.Pool().Healthy() }

// Close closes the pool now serving, waits until requests still inside an
// isolate of it, or of a module replaced before, end or ctx is done, and
// closes the runtimes. A Reload under way finishes first; one after Close
// fails with ErrHandlerClosed. Shut the HTTP server down first. Close may be
// called again after an error, to wait longer.
func (h *Handler) Close(ctx context.Context) error {
	h.reload.Lock()
	h.closed = true
	p := h.cur.Load().pool
	h.reload.Unlock()
	err := p.Close(ctx)
	if err == nil {
		h.forget(p)
	}
	done := make(chan struct{})
	go func() { h.drains.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = fmt.Errorf("draining replaced modules: %w", ctx.Err())
		}
	}
	if err == nil {
		if h.wd != nil {
			// Nothing is in flight any more. Otherwise the watchdog
			// keeps interrupting what is at its timeout.
			h.wd.close()
		}
		h.cache.Close(ctx)
		h.obc.tr.CloseIdleConnections()
	}
	return err
}

// Interrupt ends every guest call in flight now and from now on: each
// fails and its client gets 503. It works only with a HandlerTimeout, since
// without one guest calls are not interruptible; a forced shutdown then ends
// them by exiting the process.
func (h *Handler) Interrupt() {
	h.interrupted.Store(true)
	h.interrupt() // calls of a pool in the context fallback
	h.pools.Range(func(k, _ any) bool {
		k.(*pool).InterruptAll()
		return true
	})
}

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
func (h *Handler) caller(p *pool) func(*isolate, *isolateState, http.ResponseWriter, *http.Request) (bool, error) {
	switch {
	case h.cfg.HandlerTimeout <= 0 || p.InterruptMode() == runtimepool.InterruptNone:
		return func(_ *isolate, st *isolateState, w http.ResponseWriter, r *http.Request) (bool, error) {
			return false, st.guest.Handle(context.Background(), w, r)
		}
	case p.InterruptMode() == runtimepool.InterruptGlobal:
		return func(iso *isolate, st *isolateState, w http.ResponseWriter, r *http.Request) (bool, error) {
			d := h.wd.arm(st, iso)
			err := st.guest.Handle(context.Background(), w, r)
			return h.wd.disarm(st, d), err
		}
	default:
		return func(iso *isolate, st *isolateState, w http.ResponseWriter, r *http.Request) (bool, error) {
			ctx, cancel := context.WithTimeout(h.base, h.cfg.HandlerTimeout)
			defer cancel()
			// wazero's check of the context runs in the guest's code,
			// not while it sleeps in poll_oneoff: wake it.
			// Once woken, its later sleeps end at once: it must not
			// serve again.
			stop := context.AfterFunc(ctx, func() { iso.Interrupt() })
			err := st.guest.Handle(ctx, w, r)
			deadline := errors.Is(ctx.Err(), context.DeadlineExceeded)
			woken := !stop() && deadline
			return woken || err != nil && deadline, err
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
		writeError(w, http.StatusRequestEntityTooLarge, "413 request body too large", "")
		return
	}
	info := infoOf(w) // nil without a Server in front
	var start time.Time
	if info != nil {
		start = time.Now()
	}
	iso, gen, err := h.acquire(r.Context())
	if info != nil {
		info.queued = time.Since(start)
	}
	if err != nil {
		switch {
		case errors.Is(err, runtimepool.ErrOverloaded):
			h.errorDeadline(w)
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "503 server busy", "")
		case errors.Is(err, runtimepool.ErrClosed):
			h.errorDeadline(w)
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "503 server shutting down", "")
		}
		// Otherwise the client went away while waiting: nobody reads
		// an answer.
		return
	}
	pool := gen.pool
	h.setDeadlines(w, r)
	if h.interrupted.Load() {
		pool.Release(iso)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "503 server shutting down", "")
		return
	}
	st := iso.Value
	if h.prof != nil {
		st.prof.inCall.Store(true)
	}
	if info != nil {
		info.isolate, info.called, start = iso.ID, true, time.Now()
	}
	r, span := childSpan(r, "guest", trace.SpanKindInternal)
	if st.calls != nil {
		st.calls.Begin(r.Context(), h.outboundDeadline())
	}
	fired, err := gen.call(iso, st, w, r)
	if st.calls != nil {
		st.calls.End()
	}
	if info != nil {
		info.guest = time.Since(start)
	}
	if span != nil {
		span.SetAttributes(attribute.String("wasmserve.isolate", iso.ID))
		endSpan(span, err)
	}
	if h.prof != nil {
		st.prof.inCall.Store(false)
		if st.prof.due.CompareAndSwap(true, false) {
			h.prof.pending.Add(-1) // due too late: the call ended first
		}
	}
	if err == nil {
		if fired {
			// The watchdog fired as the call ended: the interrupt
			// global may be set, so the isolate cannot serve again.
			pool.Discard(iso, errors.New("handler timeout fired as the call ended"))
			return
		}
		pool.Release(iso)
		return
	}
	var again *reroute
	if errors.As(err, &again) && !fired {
		pool.Release(iso)
		h.ServeHTTP(w, again.r)
		return
	}
	var bodyErr *abi.BodyError
	if errors.As(err, &bodyErr) && !fired {
		// The client's fault: the guest finished normally.
		pool.Release(iso)
		h.clientBodyError(w, r, bodyErr)
		return
	}
	pool.Discard(iso, err)
	var id string
	re, ok := err.(*requestError)
	switch {
	case info != nil:
		id = info.id // the access log's and X-Request-Id's
	case ok && re.id != "":
		id = re.id // the one the executor logged under
	default:
		id = newRequestID()
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
	var ge *abi.GuestError
	if errors.As(err, &ge) && ge.Committed || ok && re.committed {
		// The status line is out: the only honest signal left is to
		// cut the response short.
		panic(http.ErrAbortHandler)
	}
	clear(w.Header())
	h.errorDeadline(w)
	writeError(w, code, text, id)
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
// isolate, from now, as the handler timeout counts. Nothing needs clearing
// when the request comes in: net/http sets the read deadline of each
// HTTP/1 request itself and clears the write deadline once a response is
// finished, and every HTTP/2 stream starts without one; the wait in the
// queue has its own bound. They are not cleared after the request either:
// net/http reads what is left of an unread body after the handler, and
// sends what is buffered, and a client that stalls must not hold the
// connection then.
func (h *Handler) setDeadlines(w http.ResponseWriter, r *http.Request) {
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
	now := time.Now()
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
func (h *Handler) clientBodyError(w http.ResponseWriter, r *http.Request, be *abi.BodyError) {
	code, text := http.StatusBadRequest, "400 malformed request body"
	var tooBig *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(be.Err, &tooBig):
		code, text = http.StatusRequestEntityTooLarge, "413 request body too large"
	case errors.Is(be.Err, os.ErrDeadlineExceeded) || errors.As(be.Err, &ne) && ne.Timeout():
		code, text = http.StatusRequestTimeout, "408 request body timeout"
	}
	h.log.Debug("client sent a malformed body", "status", code, "method", r.Method, "uri", r.RequestURI,
		"remote", r.RemoteAddr, "err", be.Err)
	if be.Committed {
		panic(http.ErrAbortHandler)
	}
	clear(w.Header())
	w.Header().Set("Connection", "close")
	h.errorDeadline(w)
	writeError(w, code, text, "")
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

// writeError answers a generic error. No guest or host error text reaches
// the client: only the status and the request id to find the log line.
func writeError(w http.ResponseWriter, code int, text, id string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if id != "" {
		h.Set("X-Request-Id", id)
		text += " (request id " + id + ")"
	}
	w.WriteHeader(code)
	io.WriteString(w, text+"\n")
}
