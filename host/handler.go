package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/ext"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// HandlerConfig configures the module a [Handler] runs. The zero value is
// valid: the built-in executors with their zero configurations, no
// extensions, one isolate per CPU, no compilation cache, wazero's memory
// limit, no handler timeout, no body limit, unbounded queue, isolates reused
// forever, no WASI grants, guest output limited to
// executor.DefaultOutputRate lines a second, logs discarded.
type HandlerConfig struct {
	// Isolates is the pool size; 0 means as many per CPU as the module's
	// executor asks (one, or httpwasm.UpstreamIsolatesPerCPU in
	// middleware mode); negative is an error.
	Isolates int
	// CacheDir is the on-disk compilation cache; empty disables it.
	CacheDir string
	// MemoryLimit caps each isolate's linear memory in bytes, rounded
	// down to 64 KiB pages; 0 means wazero's 4 GiB. Growth beyond it
	// fails inside the guest (memory.grow returns -1).
	MemoryLimit uint64
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
	// 0 reuses isolates forever, 1 gives every request a fresh one. An
	// executor that needs a fresh isolate for every request (CGI) gets
	// one whatever this says.
	MaxRequestsPerIsolate int
	// Dirs and Env are the WASI grants; none by default.
	Dirs []runtimepool.Dir
	// Env: see Dirs; KEY=VALUE pairs.
	Env []string
	// OutputRate bounds guest stdout/stderr lines logged per second,
	// across all isolates, with bursts of twice as many; lines beyond are
	// dropped and counted. 0 means executor.DefaultOutputRate;
	// NoOutputLimit (any negative rate) means no bound.
	OutputRate float64

	// GuestProfiler compiles the module with the guest profiler (see
	// Handler.StartGuestProfile), which makes every guest function call
	// slower even while no profile is being collected; false adds nothing.
	GuestProfiler bool

	// Executors are the ways the handler can run a module, in the order
	// automatic detection tries them. Nil means [DefaultExecutors].
	Executors []executor.Kind
	// ABI is how the module is run: the Name of one of Executors. Empty
	// or ABIAuto chooses from the module's imports and exports, again at
	// every reload.
	ABI string
	// Extensions are the host extensions offered to every module,
	// whatever its executor (outbound HTTP, host/ext/outbound). Their
	// maker closes them, after every handler using them is closed: the
	// Handler does not, since one extension may serve several handlers
	// (and Inspect's). None means guests get only their executor's
	// imports and WASI.
	Extensions []ext.Extension
}

// NoOutputLimit, as HandlerConfig.OutputRate, logs all guest output.
const NoOutputLimit = -1

// Handler serves HTTP requests by running each inside an isolate of the
// module. It is an http.Handler. The module can be replaced while serving
// with [Handler.Reload].
type Handler struct {
	cfg   HandlerConfig
	log   *slog.Logger
	out   *executor.OutputLimiter
	kinds []executor.Kind
	exts  []ext.Extension

	cur    atomic.Pointer[generation]
	gens   atomic.Uint64
	reload sync.Mutex                   // one reload at a time, and none after Close
	closed bool                         // under reload: Close has begun
	execs  map[string]executor.Executor // under reload: by kind name, made once each
	drains sync.WaitGroup               // old generations draining

	wd          *watchdog               // handler timeout in interrupt-global mode; nil without one
	prof        *guestProfiler          // nil without HandlerConfig.GuestProfiler
	cache       wazero.CompilationCache // shared by every generation; closed by Close
	base        context.Context         // parent of every guest call's context (fallback mode)
	interrupt   context.CancelFunc
	interrupted atomic.Bool
	pools       sync.Map // *pool → struct{}: generations not yet drained
	counts      handlerTotals
}

// pool and isolate are the runtimepool types with the host's per-isolate
// state.
type (
	pool    = runtimepool.Pool[*isolateState]
	isolate = runtimepool.Isolate[*isolateState]
)

// isolateState is the host's state of one isolate: its executor's instance,
// its extensions' states, and the deadline of its call in flight, which the
// watchdog reads (interrupt-global mode).
type isolateState struct {
	guest    executor.Instance
	exts     []ext.Isolate // of the extensions the module imports
	prof     profState     // used with HandlerConfig.GuestProfiler
	iso      *isolate      // set at the first call, by the watchdog
	deadline atomic.Int64  // watchdog tick; 0 when idle, deadlineFired once interrupted
}

// generation is one compiled module, its pool, and how its requests are
// run. A reload makes a new one and drains the old.
type generation struct {
	n      uint64
	pool   *pool
	kind   executor.Kind
	abiWhy string // why kind was chosen
	// call runs one request on an isolate of pool under the handler
	// timeout, chosen once for the pool's interrupt mode. fired reports
	// that the timeout ended the call (or fired as it ended: the isolate
	// must not serve again).
	call caller
}

// NewHandler compiles wasm, checks it fits its executor, and fills the
// isolate pool. Every error here is a module the server cannot run, or a
// configuration it cannot take.
func NewHandler(ctx context.Context, wasm []byte, cfg HandlerConfig) (*Handler, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HandlerTimeout < 0 || cfg.MaxBody < 0 {
		return nil, errors.New("handler timeout and body limit must not be negative")
	}
	kinds := cfg.Executors
	if kinds == nil {
		kinds = DefaultExecutors()
	}
	h := &Handler{cfg: cfg, log: logger, out: executor.NewOutputLimiter(cfg.OutputRate), kinds: kinds,
		exts: cfg.Extensions, execs: map[string]executor.Executor{}}
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
		h.release(ctx)
		return nil, err
	}
	h.cur.Store(gen)
	return h, nil
}

// release frees what the handler holds beside its pools: the watchdog and
// the compilation cache.
func (h *Handler) release(ctx context.Context) {
	if h.wd != nil {
		h.wd.close()
	}
	h.cache.Close(ctx)
}

// env is what the handler lends its executors.
func (h *Handler) env() executor.Env {
	return executor.Env{Logger: h.log, Output: h.out, MaxBody: h.cfg.MaxBody, Env: h.cfg.Env, Dirs: h.cfg.Dirs,
		Extensions: importCheckers(h.exts)}
}

// importCheckers are the extensions as what an executor sees of them.
func importCheckers(exts []ext.Extension) []executor.ImportChecker {
	checkers := make([]executor.ImportChecker, len(exts))
	for i, e := range exts {
		checkers[i] = e
	}
	return checkers
}

// newGeneration chooses the executor for wasm, compiles wasm into a new
// runtime and fills its pool. The caller holds h.reload, or is NewHandler.
func (h *Handler) newGeneration(ctx context.Context, wasm []byte) (*generation, error) {
	cfg := h.cfg
	if comp, err := isComponent(wasm); err != nil {
		return nil, err
	} else if comp {
		return h.newComponentGeneration(ctx, wasm)
	}
	// The one parse of these bytes: each pass over a Go module costs
	// milliseconds of a start or reload, and the parsed module answers
	// every later question and feeds every pass of the pool.
	mod, err := parseModule(wasm)
	if err != nil {
		return nil, err
	}
	shape := mod.Shape()
	kind, why, err := pickExecutor(h.kinds, cfg.ABI, shape)
	if err != nil {
		return nil, err
	}
	exec, err := h.executor(kind)
	if err != nil {
		return nil, err
	}
	spec := exec.Pool()
	pc := h.poolConfig(spec)
	pc.StartTimeout = cfg.HandlerTimeout
	pc.Dirs, pc.Env = cfg.Dirs, cfg.Env
	pc.Installers, pc.ResetSafeImports = spec.Installers, spec.ResetSafeImports
	pc.WASI, pc.NoStart = spec.WASI, spec.NoStart
	if h.prof != nil {
		pc.Listener = h.prof.factory()
	}
	if spec.Stdio != nil {
		pc.Stdio = func(st *isolateState) (io.Reader, io.Writer, io.Writer) { return spec.Stdio(st.guest) }
	} else {
		pc.Output = func(id string) (io.Writer, io.Writer) {
			return executor.NewLineWriter(h.log, h.out, id, "stdout"), executor.NewLineWriter(h.log, h.out, id, "stderr")
		}
	}

	// Every extension is installed, so that a module importing it links;
	// only those the module imports get per-isolate state, so that a
	// guest that does not use one pays nothing per request.
	var used []ext.Extension
	for _, e := range h.exts {
		pc.Installers = append(pc.Installers, e.Install)
		if shape.Imports(e.ModuleName()) {
			used = append(used, e)
			if e.ResetSafe() {
				pc.ResetSafeImports = append(pc.ResetSafeImports, e.ModuleName())
			}
		}
	}
	pc.Validate = func(cm wazero.CompiledModule) error {
		for _, e := range h.exts {
			if err := e.Validate(cm); err != nil {
				return err
			}
		}
		if spec.Validate != nil {
			return spec.Validate(cm)
		}
		return nil
	}
	pc.Prepare = func(ctx context.Context, id string) (context.Context, *isolateState) {
		ctx, inst := exec.NewInstance(ctx, id)
		st := &isolateState{guest: inst}
		for _, e := range used {
			var ei ext.Isolate
			ctx, ei = e.NewIsolate(ctx, id)
			st.exts = append(st.exts, ei)
		}
		return ctx, st
	}
	pc.Bind = func(st *isolateState, mod api.Module) error {
		if h.prof != nil {
			h.prof.bind(mod, st)
		}
		if err := st.guest.Bind(mod); err != nil {
			return err
		}
		for _, ei := range st.exts {
			if err := ei.Bind(mod); err != nil {
				return err
			}
		}
		return nil
	}

	p, err := runtimepool.NewParsed(ctx, mod, pc)
	if err != nil {
		return nil, err
	}
	return h.generation(p, kind, why), nil
}

// executor returns the handler's executor of kind, made at its first use.
// The caller holds h.reload, or is NewHandler.
func (h *Handler) executor(kind executor.Kind) (executor.Executor, error) {
	if exec := h.execs[kind.Name]; exec != nil {
		return exec, nil
	}
	exec, err := kind.New(h.env())
	if err != nil {
		return nil, err
	}
	h.execs[kind.Name] = exec
	return exec, nil
}

// poolConfig is what every pool of the handler is configured with, core
// module's or component's, for an executor that needs spec.
func (h *Handler) poolConfig(spec executor.PoolSpec) runtimepool.Config[*isolateState] {
	cfg := h.cfg
	pc := runtimepool.Config[*isolateState]{
		Isolates:              cfg.Isolates,
		CacheDir:              cfg.CacheDir,
		Cache:                 h.cache,
		MemoryLimitPages:      uint32(min(cfg.MemoryLimit>>16, 65536)),
		Interruptible:         cfg.HandlerTimeout > 0,
		QueueTimeout:          cfg.QueueTimeout,
		MaxQueue:              cfg.MaxQueue,
		MaxRequestsPerIsolate: cfg.MaxRequestsPerIsolate,
		Logger:                h.log,
	}
	if pc.Isolates == 0 {
		pc.Isolates = max(spec.IsolatesPerCPU, 1) * runtime.NumCPU()
	}
	if spec.OneRequestPerIsolate {
		pc.MaxRequestsPerIsolate = 1
	}
	if cfg.MemoryLimit > 0 && pc.MemoryLimitPages == 0 {
		pc.MemoryLimitPages = 1
	}
	return pc
}

// generation registers a new pool and makes the generation serving it.
func (h *Handler) generation(p *pool, kind executor.Kind, why string) *generation {
	h.pools.Store(p, struct{}{})
	if h.interrupted.Load() {
		p.InterruptAll()
	}
	return &generation{n: h.gens.Add(1), pool: p, kind: kind, abiWhy: why, call: h.caller(p)}
}

// Pool returns the isolate pool now serving, for stats and tests.
func (h *Handler) Pool() *runtimepool.Pool[*isolateState] { return h.cur.Load().pool }

// ABI describes how the module now serving is run: its executor's name (one
// of ABINames but ABIAuto), its title for people ("http-wasm handler"), and
// why it was chosen ("it imports http_handler").
func (h *Handler) ABI() (name, title, why string) {
	gen := h.cur.Load()
	return gen.kind.Name, gen.kind.Title, gen.abiWhy
}

// Compiled returns the compiled module now serving.
func (h *Handler) Compiled() wazero.CompiledModule { return h.Pool().Compiled() }

// Healthy reports whether the pool now serving keeps itself at full size.
func (h *Handler) Healthy() bool { return h.Pool().Healthy() }

// Close closes the pool now serving, waits until requests still inside an
// isolate of it, or of a module replaced before, end or ctx is done, and
// closes the runtimes. A Reload under way finishes
// first; one after Close fails with ErrHandlerClosed. Shut the HTTP server
// down first. Close may be called again after an error, to wait longer.
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
		// Nothing is in flight any more. Otherwise the watchdog keeps
		// interrupting what is at its timeout.
		h.release(ctx)
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
