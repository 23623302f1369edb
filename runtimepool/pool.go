// Package runtimepool owns one wazero runtime, the module compiled in it, and
// a fixed-size pool of isolates: instances of that module, each with its own
// linear memory, each used by one caller at a time.
//
// The package knows nothing of HTTP or of the guest ABI. Host modules come in
// as [Installer] functions, and the caller attaches its own per-isolate state
// through [Config.Prepare] and [Config.Bind].
package runtimepool

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
	"github.com/wasmserve/wasmserve/internal/wasmprep"
	"github.com/wasmserve/wasmserve/runtimepool/component"
)

// Installer defines host modules in the runtime before the guest module is
// compiled. httpwasm.Host.Install (package host/executor/httpwasm) has this
// shape.
type Installer func(context.Context, wazero.Runtime) error

// Config configures a [Pool]. The zero value is valid: one isolate per CPU,
// no compilation cache, wazero's default memory limit (4 GiB), WASI with
// nothing granted, and no host modules besides WASI.
type Config[V any] struct {
	// Isolates is the number of pooled instances. 0 means one per CPU;
	// a negative number is an error.
	Isolates int
	// CacheDir holds compiled code, and the modules rewritten for
	// Interruptible, between runs. Empty disables the on-disk cache.
	CacheDir string
	// Cache, when set, is the compilation cache the pool compiles
	// through, shared with other pools: a module that a pool still open
	// on the same cache compiled is not compiled again (a reload of the
	// same module is then instant), and one compiled before is read from
	// the cache's directory, if it has one. The pool does not close it.
	// Nil means a cache of the pool's own on CacheDir, closed with the
	// pool, or none without CacheDir. CacheDir still holds the rewrite
	// cache either way.
	Cache wazero.CompilationCache
	// MemoryLimitPages caps every isolate's linear memory, in 64 KiB
	// pages. 0 means wazero's limit, 65536 pages (4 GiB).
	MemoryLimitPages uint32
	// CloseOnContextDone makes a guest call end when its context is done,
	// at a cost on every call and loop iteration (see RATIONALE.md).
	CloseOnContextDone bool
	// Interruptible rewrites the module with [RewriteInterruptible] so
	// that [Isolate.Interrupt] and [Pool.InterruptAll] can stop a call at
	// its next function call or loop iteration. When the rewrite declines
	// a well-formed module (no memory, a reserved export name), the pool
	// logs a warning and falls back to CloseOnContextDone; Stats.Interrupt
	// tells which one is in use. A module the rewrite cannot read is an
	// error of New.
	Interruptible bool
	// StartTimeout bounds each isolate's start function (_initialize or
	// _start): one still running past it is interrupted, as a request past
	// the handler timeout is, and the isolate is refused with an error
	// naming the timeout. 0 means no bound. It takes effect when the guest
	// can be interrupted (Interruptible, or CloseOnContextDone).
	StartTimeout time.Duration
	// Installers define the host modules the guest imports.
	Installers []Installer
	// Validate, when set, checks the compiled module before any isolate is
	// made; its error is returned by New.
	Validate func(wazero.CompiledModule) error
	// Prepare, when set, is called before each instantiation with the new
	// isolate's ID. The context it returns is used to instantiate (so the
	// start function's host calls can find the isolate), and its value is
	// kept as Isolate.Value.
	Prepare func(ctx context.Context, id string) (context.Context, V)
	// Bind, when set, is called with Prepare's value and the new instance.
	// An error discards the instance.
	Bind func(value V, mod api.Module) error
	// BindComponent, when set, is called with Prepare's value and the new
	// component instance of a pool made by NewComponent. An error
	// discards the instance.
	BindComponent func(value V, inst *component.Instance) error
	// Output, when set, returns the writers for the isolate's stdout and
	// stderr. Nil discards guest output.
	Output func(id string) (stdout, stderr io.Writer)
	// Stdio, when set, returns the isolate's standard streams from
	// Prepare's value, in place of Output's, for a caller that gives
	// every use of an isolate its own input and output. A nil stdin reads
	// as empty, a nil writer discards.
	Stdio func(value V) (stdin io.Reader, stdout, stderr io.Writer)
	// WASI, when set, defines the wasi_snapshot_preview1 host module in
	// place of wazero's, so that a caller can replace some of its
	// functions. Nil means wazero's as it is.
	WASI Installer
	// NoStart instantiates isolates without calling their start function
	// (_initialize or _start), for a caller that calls it as an export on
	// every use. Stats.StartFunction is then "". False runs it once, at
	// instantiation.
	NoStart bool
	// Logger reports background work: replacements and their failures.
	// Nil discards.
	Logger *slog.Logger

	// QueueTimeout bounds how long Acquire waits for a free isolate;
	// beyond it Acquire returns ErrQueueTimeout. 0 waits as long as the
	// caller's context allows.
	QueueTimeout time.Duration
	// MaxQueue bounds how many callers may wait in Acquire at once; one
	// more gets ErrQueueFull at once. 0 means no bound.
	MaxQueue int
	// MaxRequestsPerIsolate renews an isolate after this many uses: it is
	// reset to its state right after its start function when the module
	// allows (Stats.ResetBlocker), else closed and replaced by a new
	// instance in the background. 0 reuses isolates forever; 1 gives every
	// caller a fresh isolate.
	MaxRequestsPerIsolate int
	// Listener, when set, is told of every call of the module's own
	// functions (wazero's experimental function listener), for profiling.
	// It is compiled into the module's code and makes every call slower;
	// nil adds nothing.
	Listener experimental.FunctionListenerFactory
	// ResetSafeImports names the host modules (besides WASI, which the
	// package knows) whose functions keep no state of an instance from
	// one use to the next, so that importing them does not stop
	// MaxRequestsPerIsolate from resetting isolates; an entry
	// "module.name" names one function, such as a WASI function the
	// caller replaced through Config.WASI. None means any other import
	// makes the pool replace isolates instead.
	ResetSafeImports []string
	// Dirs are the host directories the guest may open through WASI.
	// None means no file system at all.
	Dirs []Dir
	// Env is the guest's WASI environment as KEY=VALUE pairs. None means
	// an empty environment.
	Env []string

	noRewrite bool // the rewritten module failed to compile: serve wasm as it is
}

// Dir grants the guest one host directory through WASI.
type Dir struct {
	// Host is the directory on the host.
	Host string
	// Guest is where the guest sees it; empty means the same as Host.
	Guest string
	// ReadOnly refuses writes.
	ReadOnly bool
}

// Stats describe how the pool was built.
type Stats struct {
	// CompileTime is how long compiling the module took.
	CompileTime time.Duration
	// CacheHit reports that the compiled code came from CacheDir.
	CacheHit bool
	// InstantiateTime is how long creating all isolates took.
	InstantiateTime time.Duration
	// StartFunction is the start function called on each isolate:
	// "_initialize", "_start" or "" for none.
	StartFunction string
	// Interrupt is how guest calls can be interrupted.
	Interrupt InterruptMode
	// ResetBlocker, with Config.MaxRequestsPerIsolate set, says why the
	// module's isolates are replaced by new instances rather than reset
	// to their state after start; empty when they are reset. See
	// Pool.Resets.
	ResetBlocker string
}

// InterruptMode is how a pool's guest calls can be interrupted.
type InterruptMode uint8

// The interrupt modes.
const (
	// InterruptNone: calls cannot be interrupted.
	InterruptNone InterruptMode = iota
	// InterruptGlobal: the module was rewritten with an interrupt
	// global; use Isolate.Interrupt.
	InterruptGlobal
	// InterruptContext: wazero closes the module when the call's context
	// is done (Config.CloseOnContextDone).
	InterruptContext
)

// String names the mode.
func (m InterruptMode) String() string {
	switch m {
	case InterruptNone:
		return "none"
	case InterruptGlobal:
		return "global"
	case InterruptContext:
		return "context"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Errors returned by Acquire. ErrQueueFull and ErrQueueTimeout both match
// ErrOverloaded with errors.Is.
var (
	ErrClosed       = errors.New("isolate pool is closed")
	ErrOverloaded   = errors.New("isolate pool is overloaded")
	ErrQueueFull    = fmt.Errorf("%w: too many callers waiting for an isolate", ErrOverloaded)
	ErrQueueTimeout = fmt.Errorf("%w: no isolate became free within the queue timeout", ErrOverloaded)
)

// Pool is a fixed-size set of isolates of one compiled module. Its methods
// are safe for concurrent use.
type Pool[V any] struct {
	cfg      Config[V]
	size     int
	rt       wazero.Runtime
	cache    wazero.CompilationCache
	compiled wazero.CompiledModule
	modCfg   wazero.ModuleConfig
	stats    Stats
	starts   []string // the start functions instantiate runs, in order (see runStart)
	log      *slog.Logger

	idle     chan *Isolate[V]
	nextID   atomic.Uint64
	closed   atomic.Bool
	closing  chan struct{}
	bg       sync.WaitGroup // background replacements
	replaced atomic.Uint64
	retired  atomic.Uint64
	waiters  atomic.Int64
	failing  atomic.Int64 // replacements failing in a row now

	busy    atomic.Int64 // isolates handed out and not yet returned
	mu      sync.Mutex   // serialises closing drained
	drained chan struct{}

	closeRuntime sync.Once

	live        sync.Map // *Isolate → struct{}: instantiated, not closed
	interrupted atomic.Bool

	globals []string // export names of the module's mutable globals
	image   *image   // the state resets restore; nil: no resets
	resets  atomic.Uint64

	comp   *component.Component // set by NewComponent: isolates are its instances
	images []*memImage          // the memory image of each of its core instances, or nil
}

// New parses wasm (wasmprep.Parse: the structural pre-check, whose
// *wasmbin.FormatError it returns) and makes a pool of it with NewParsed. A
// caller that has parsed the module already calls NewParsed itself.
func New[V any](ctx context.Context, wasm []byte, cfg Config[V]) (*Pool[V], error) {
	mod, err := wasmprep.Parse(wasm)
	if err != nil {
		return nil, err
	}
	return NewParsed(ctx, mod, cfg)
}

// NewParsed compiles the parsed module and fills the pool, reading the
// module's analyses from mod rather than passing over its bytes again. A
// module that does not compile, that fails Validate, or whose start
// function fails is an error here, before anything is served.
func NewParsed[V any](ctx context.Context, mod *wasmprep.Module, cfg Config[V]) (*Pool[V], error) {
	p, err := newPoolBase(cfg)
	if err != nil {
		return nil, err
	}

	// wazero never sees a malformed module: mod passed the pre-check
	// (see wasmbin.Check). Every table gets a bounded maximum, whatever
	// else is done to the module (the rewrite below is not always made).
	mod, err = mod.LimitTables()
	if err != nil {
		return nil, err
	}
	// The rewrite inserts the interrupt checks (Interruptible) or only
	// exports the mutable globals, for resets.
	code, rewritten := mod.Bytes(), false
	var info wasmprep.Info
	checks := cfg.Interruptible
	if cfg.noRewrite {
		info.ResetBlocker = "it could not be rewritten"
	} else if checks || cfg.MaxRequestsPerIsolate > 0 {
		var fe *wasmbin.FormatError
		switch rw, inf, err := rewriteCached(cfg.CacheDir, mod, checks, p.log); {
		case errors.As(err, &fe):
			return nil, err // what the rewriter cannot read, wazero must not see
		case err != nil:
			info.ResetBlocker = "it could not be rewritten: " + err.Error()
			if checks {
				p.log.Warn("the module cannot be made cheaply interruptible; falling back to wazero's close-on-context-done, "+
					"which costs on every call and loop iteration", "err", err)
				cfg.CloseOnContextDone = true
			}
		default:
			code, info, rewritten = rw, inf, true
		}
	}
	switch {
	case rewritten && checks:
		p.stats.Interrupt = InterruptGlobal
	case cfg.CloseOnContextDone:
		p.stats.Interrupt = InterruptContext
	}
	if cfg.MaxRequestsPerIsolate > 0 {
		p.globals = info.Globals
		p.stats.ResetBlocker = info.ResetBlocker
		if p.stats.ResetBlocker == "" {
			p.stats.ResetBlocker = wasmprep.HostResetBlocker(info.HostImports, cfg.ResetSafeImports)
		}
	}
	rc, err := p.runtimeConfig(wazero.NewRuntimeConfig().WithCloseOnContextDone(cfg.CloseOnContextDone))
	if err != nil {
		return nil, err
	}
	before := -1
	if cfg.CacheDir != "" {
		before = countFiles(cfg.CacheDir)
	}
	p.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	ok := false
	defer func() {
		if !ok {
			p.Close(ctx)
		}
	}()

	wasi := cfg.WASI
	if wasi == nil {
		wasi = func(ctx context.Context, rt wazero.Runtime) error {
			_, err := wasi_snapshot_preview1.Instantiate(ctx, rt)
			return err
		}
	}
	if err := wasi(ctx, p.rt); err != nil {
		return nil, fmt.Errorf("instantiating WASI: %w", err)
	}
	for _, install := range cfg.Installers {
		if err := install(ctx, p.rt); err != nil {
			return nil, err
		}
	}

	if err := mod.CheckMemory(cfg.MemoryLimitPages); err != nil {
		return nil, err
	}
	start := time.Now()
	// Functions are compiled on every CPU: a Go module's cold compile is
	// seconds on one.
	cctx := experimental.WithCompilationWorkers(ctx, runtime.GOMAXPROCS(0))
	if cfg.Listener != nil {
		cctx = experimental.WithFunctionListenerFactory(cctx, cfg.Listener)
	}
	// A damaged entry of the on-disk cache is rebuilt, not served around.
	compiled, repaired, err := p.compileRepairing(cctx, rc, cfg.CacheDir, code)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("compiling module: interrupted: %w", context.Cause(ctx))
	}
	if err != nil && rewritten {
		// A rewrite wazero refuses of a module it accepts is a bug in
		// the rewriter: serve the module with the fallback instead.
		orig, oerr := p.rt.CompileModule(ctx, mod.Bytes())
		if oerr != nil {
			return nil, fmt.Errorf("compiling module: %w", oerr)
		}
		orig.Close(ctx)
		p.log.Warn("the rewritten module does not compile; serving the module as it is",
			"err", err)
		if cfg.Interruptible {
			cfg.Interruptible, cfg.CloseOnContextDone = false, true
		}
		cfg.noRewrite = true
		return NewParsed(ctx, mod, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("compiling module: %w", err)
	}
	p.compiled = compiled
	p.stats.CompileTime = time.Since(start)
	if before >= 0 {
		p.stats.CacheHit = countFiles(cfg.CacheDir) == before && before > 0 && !repaired
	}
	if cfg.Validate != nil {
		if err := cfg.Validate(compiled); err != nil {
			return nil, err
		}
	}

	p.modCfg = wazero.NewModuleConfig().
		WithName("").
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithRandSource(rand.Reader).
		WithStartFunctions()
	if len(cfg.Dirs) > 0 {
		fc := wazero.NewFSConfig()
		for _, d := range cfg.Dirs {
			guest := d.Guest
			if guest == "" {
				guest = d.Host
			}
			if d.ReadOnly {
				fc = fc.WithReadOnlyDirMount(d.Host, guest)
			} else {
				fc = fc.WithDirMount(d.Host, guest)
			}
		}
		p.modCfg = p.modCfg.WithFSConfig(fc)
	}
	for _, kv := range cfg.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("guest environment entry %q is not KEY=VALUE", kv)
		}
		p.modCfg = p.modCfg.WithEnv(k, v)
	}
	exports := compiled.ExportedFunctions()
	if _, ok := exports[wasmprep.StartExport]; ok && rewritten {
		p.starts = append(p.starts, wasmprep.StartExport) // the start section, first
	}
	for _, name := range []string{"_initialize", "_start"} {
		if _, ok := exports[name]; ok && !cfg.NoStart {
			// Run by instantiate itself, once the isolate can be
			// interrupted: an endless start must not hang the server.
			p.stats.StartFunction = name
			p.starts = append(p.starts, name)
			break
		}
	}

	err = p.fill(ctx, func(iso *Isolate[V]) {
		if cfg.MaxRequestsPerIsolate > 0 && p.stats.ResetBlocker == "" {
			if iso.randAtStart {
				p.stats.ResetBlocker = "its start function reads random bytes (random_get), which a reset would replay"
			} else {
				p.takeImage(iso)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

// instantiate creates one isolate and runs its start function.
func (p *Pool[V]) instantiate(ctx context.Context) (*Isolate[V], error) {
	if p.comp != nil {
		return p.instantiateComponent(ctx)
	}
	id := "i" + strconv.FormatUint(p.nextID.Add(1), 10)
	iso := &Isolate[V]{ID: id, pool: p, woken: make(chan struct{})}
	ictx := ctx
	if p.cfg.Prepare != nil {
		ictx, iso.Value = p.cfg.Prepare(ctx, id)
	}
	mc := p.modCfg
	var rs *randSource
	if p.cfg.MaxRequestsPerIsolate > 0 && p.stats.ResetBlocker == "" {
		rs = new(randSource)
		mc = mc.WithRandSource(rs)
	}
	mc = mc.WithNanosleep(iso.sleep) // interruptible (see Isolate.Interrupt)
	switch {
	case p.cfg.Stdio != nil:
		stdin, stdout, stderr := p.cfg.Stdio(iso.Value)
		if stdin != nil {
			mc = mc.WithStdin(stdin)
		}
		if stdout != nil {
			mc = mc.WithStdout(stdout)
		}
		if stderr != nil {
			mc = mc.WithStderr(stderr)
		}
	case p.cfg.Output != nil:
		stdout, stderr := p.cfg.Output(id)
		mc = mc.WithStdout(stdout).WithStderr(stderr)
	}
	ictx, alloc := withMemoryAllocator(ictx)
	mod, err := p.rt.InstantiateModule(ictx, p.compiled, mc)
	if err != nil {
		alloc.release()
		return nil, fmt.Errorf("instantiating isolate %s: %w", id, err)
	}
	alloc.bindMemory(mod)
	iso.Module = mod
	if p.stats.Interrupt == InterruptGlobal {
		g, ok := mod.ExportedGlobal(InterruptExport).(api.MutableGlobal)
		c, ok2 := mod.ExportedGlobal(CountdownExport).(api.MutableGlobal)
		if !ok || !ok2 {
			mod.Close(ctx)
			return nil, fmt.Errorf("instantiating isolate %s: no mutable globals %q and %q", id, InterruptExport, CountdownExport)
		}
		iso.interrupt, iso.countdown = g, c
		p.live.Store(iso, struct{}{})
		if p.interrupted.Load() {
			iso.Interrupt()
		}
	}
	for _, name := range p.starts {
		if err := p.runStart(ictx, iso, name); err != nil {
			p.live.Delete(iso)
			mod.Close(ctx)
			if name == wasmprep.StartExport {
				name = "its start section"
			}
			return nil, fmt.Errorf("starting isolate %s (%s): %w", id, name, err)
		}
	}
	if rs != nil {
		iso.randAtStart = rs.read.Load()
		if err := iso.bindGlobals(p.globals); err != nil {
			p.live.Delete(iso)
			mod.Close(ctx)
			return nil, fmt.Errorf("instantiating isolate %s: %w", id, err)
		}
	}
	if p.cfg.Bind != nil {
		if err := p.cfg.Bind(iso.Value, mod); err != nil {
			iso.close(ctx)
			return nil, err
		}
	}
	return iso, nil
}

// runStart runs the isolate's start function as wazero would have at
// instantiation (an exit with code 0 is a success), bounded by
// Config.StartTimeout: past it the isolate is interrupted like a request
// past the handler timeout, and the start fails.
func (p *Pool[V]) runStart(ctx context.Context, iso *Isolate[V], name string) error {
	fn := iso.Module.ExportedFunction(name)
	var late atomic.Bool
	if t := p.cfg.StartTimeout; t > 0 {
		switch {
		case iso.interrupt != nil:
			timer := time.AfterFunc(t, func() { late.Store(true); iso.Interrupt() })
			defer timer.Stop()
		case p.stats.Interrupt == InterruptContext:
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t)
			defer cancel()
			stop := context.AfterFunc(ctx, func() { late.Store(true) })
			defer stop()
		}
	}
	if iso.interrupt != nil {
		// The caller giving up (a signal during start-up) interrupts
		// the start as its timeout would.
		stop := context.AfterFunc(ctx, func() { iso.Interrupt() })
		defer stop()
	}
	_, err := fn.Call(ctx)
	if late.Load() {
		// Even a start that ended as the timer fired: the interrupt
		// flag may be set, and the isolate could not serve.
		return fmt.Errorf("the start function ran past the start timeout of %s (an endless loop, or raise the start timeout)", p.cfg.StartTimeout)
	}
	if se, ok := err.(*sys.ExitError); ok && se.ExitCode() == 0 {
		return nil
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	if err != nil {
		return fmt.Errorf("module[] function[%s] failed: %w", name, err)
	}
	return nil
}

// Stats returns how the pool was built.
func (p *Pool[V]) Stats() Stats { return p.stats }

// Size is the number of isolates the pool keeps.
func (p *Pool[V]) Size() int { return p.size }

// Idle is the number of isolates waiting for work now.
func (p *Pool[V]) Idle() int { return len(p.idle) }

// Replaced counts isolates discarded and replaced since the pool started.
func (p *Pool[V]) Replaced() uint64 { return p.replaced.Load() }

// InterruptMode is how calls of this pool's isolates can be interrupted.
func (p *Pool[V]) InterruptMode() InterruptMode { return p.stats.Interrupt }

// InterruptAll interrupts every isolate of the pool, busy or idle, now and
// from now on (replacements included): their calls trap at the next function
// call or loop iteration. It does nothing unless InterruptMode is
// InterruptGlobal.
func (p *Pool[V]) InterruptAll() {
	p.interrupted.Store(true)
	p.live.Range(func(k, _ any) bool {
		k.(*Isolate[V]).Interrupt()
		return true
	})
}

// Compiled returns the compiled module, for inspection.
func (p *Pool[V]) Compiled() wazero.CompiledModule { return p.compiled }

// Acquire takes an idle isolate, waiting until one is free, ctx is done, or
// the queue bounds of Config are reached. The caller owns it until Release
// or Discard.
func (p *Pool[V]) Acquire(ctx context.Context) (*Isolate[V], error) {
	select {
	case iso := <-p.idle:
		return p.take(iso)
	default:
	}
	if p.closed.Load() {
		return nil, ErrClosed
	}
	n := p.waiters.Add(1)
	defer p.waiters.Add(-1)
	if p.cfg.MaxQueue > 0 && n > int64(p.cfg.MaxQueue) {
		return nil, ErrQueueFull
	}
	var timeout <-chan time.Time
	if p.cfg.QueueTimeout > 0 {
		t := time.NewTimer(p.cfg.QueueTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case iso := <-p.idle:
		return p.take(iso)
	case <-p.closing:
		return nil, ErrClosed
	case <-timeout:
		return nil, ErrQueueTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Waiting is the number of callers waiting in Acquire now.
func (p *Pool[V]) Waiting() int { return int(p.waiters.Load()) }

func (p *Pool[V]) take(iso *Isolate[V]) (*Isolate[V], error) {
	if !iso.state.CompareAndSwap(uint32(StateIdle), uint32(StateBusy)) {
		// Only a bug in this package could put a non-idle isolate in
		// the idle set; refuse rather than share it.
		panic(fmt.Sprintf("runtimepool: isolate %s taken from the idle set in state %s", iso.ID, iso.State()))
	}
	// Count it busy first, then look at closed; Close sets closed first,
	// then looks at busy. Whichever comes second sees the other, so Close
	// never finds the pool drained (and closes the runtime) while this
	// caller holds an isolate: an isolate handed over the idle set by a
	// Release is counted by neither side while it is in flight.
	p.busy.Add(1)
	if p.closed.Load() {
		iso.close(context.Background())
		p.done()
		return nil, ErrClosed
	}
	iso.uses++
	return iso, nil
}

// done records that a busy isolate came back, and tells Close when the last
// one of a closed pool has.
func (p *Pool[V]) done() {
	// Close sets closed before it looks at busy, and done the other way
	// round: whichever comes second sees the last isolate home.
	if p.busy.Add(-1) == 0 && p.closed.Load() {
		p.mu.Lock()
		p.signalDrainedLocked()
		p.mu.Unlock()
	}
}

// signalDrainedLocked closes drained once the pool is closed and nothing is
// busy. p.mu must be held.
func (p *Pool[V]) signalDrainedLocked() {
	if p.busy.Load() != 0 || !p.closed.Load() {
		return
	}
	select {
	case <-p.drained:
	default:
		close(p.drained)
	}
}

// Busy is the number of isolates handed out now.
func (p *Pool[V]) Busy() int { return int(p.busy.Load()) }

// Release returns a healthy isolate to the pool. An isolate that has served
// Config.MaxRequestsPerIsolate calls is renewed in the background, never on
// the caller's time: reset to its state after start (see Pool.Resets) or,
// when the module does not allow that or its memory grew, retired: closed
// and replaced. So is one whose module closed itself (a guest calling
// proc_exit, as a command does at its end).
func (p *Pool[V]) Release(iso *Isolate[V]) {
	if iso.State() != StateBusy {
		panic(fmt.Sprintf("runtimepool: release of isolate %s in state %s", iso.ID, iso.State()))
	}
	max := p.cfg.MaxRequestsPerIsolate
	switch {
	case iso.Module != nil && iso.Module.IsClosed(), iso.Component != nil && iso.Component.Broken() != nil:
		p.retire(iso)
	case max == 0 || iso.uses < max:
		p.makeIdle(iso)
	case p.image == nil:
		p.retire(iso)
	default:
		p.bg.Add(1)
		go func() {
			defer p.bg.Done()
			if p.reset(iso) {
				p.makeIdle(iso)
			} else {
				p.retire(iso)
			}
		}()
	}
}

// makeIdle puts a busy isolate back in the idle set, or closes it when the
// pool is closed.
func (p *Pool[V]) makeIdle(iso *Isolate[V]) {
	if !iso.state.CompareAndSwap(uint32(StateBusy), uint32(StateIdle)) {
		panic(fmt.Sprintf("runtimepool: release of isolate %s in state %s", iso.ID, iso.State()))
	}
	defer p.done()
	if p.closed.Load() {
		iso.close(context.Background())
		return
	}
	p.idle <- iso
	if p.closed.Load() {
		p.drainIdle(context.Background())
	}
}

// retire closes a busy isolate that has served its calls and replaces it in
// the background.
func (p *Pool[V]) retire(iso *Isolate[V]) {
	if !iso.state.CompareAndSwap(uint32(StateBusy), uint32(StateClosed)) {
		panic(fmt.Sprintf("runtimepool: release of isolate %s in state %s", iso.ID, iso.State()))
	}
	p.retired.Add(1)
	p.recycle(iso, nil)
}

// Discard marks a busy isolate broken, closes it, and instantiates a
// replacement in the background so that the pool returns to full size
// without a request paying for it.
func (p *Pool[V]) Discard(iso *Isolate[V], reason error) {
	if !iso.state.CompareAndSwap(uint32(StateBusy), uint32(StateBroken)) {
		panic(fmt.Sprintf("runtimepool: discard of isolate %s in state %s", iso.ID, iso.State()))
	}
	p.replaced.Add(1)
	p.recycle(iso, reason)
}

// recycle closes iso and replaces it, both in the background.
func (p *Pool[V]) recycle(iso *Isolate[V], reason error) {
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		iso.close(context.Background())
		p.done()
		if reason != nil {
			p.log.Debug("isolate discarded", "isolate", iso.ID, "reason", reason)
		}
		p.replace()
	}()
}

// Retired counts isolates closed after Config.MaxRequestsPerIsolate uses.
func (p *Pool[V]) Retired() uint64 { return p.retired.Load() }

// Healthy reports whether the pool can keep itself at full size: false while
// replacing an isolate keeps failing (the pool is then backing off and
// serving with fewer isolates), and after Close.
func (p *Pool[V]) Healthy() bool { return p.failing.Load() == 0 && !p.closed.Load() }

// replace instantiates one isolate, retrying with backoff (10 ms doubling to
// 5 s) while the pool is open.
func (p *Pool[V]) replace() {
	backoff := 10 * time.Millisecond
	for !p.closed.Load() {
		iso, err := p.instantiate(context.Background())
		if err == nil {
			if p.failing.Swap(0) != 0 {
				p.log.Info("replacing isolates works again", "isolate", iso.ID)
			}
			p.idle <- iso
			if p.closed.Load() {
				p.drainIdle(context.Background())
			}
			return
		}
		p.failing.Add(1)
		p.log.Error("replacing isolate failed; retrying", "err", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-p.closing:
			return
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// Close stops the pool and releases it, in this order: waiters get
// ErrClosed and Acquire refuses new callers; idle isolates are closed; busy
// ones are closed as they come back, which Close waits for until ctx is done;
// background replacements end; and the runtime and compilation cache are
// closed. When ctx is done first, Close returns an error naming how many
// isolates were still busy and leaves the runtime open for them; a later
// Close finishes the job. Close is safe to call more than once and from
// several goroutines.
func (p *Pool[V]) Close(ctx context.Context) error {
	if p.closed.CompareAndSwap(false, true) {
		close(p.closing)
		p.mu.Lock()
		p.signalDrainedLocked()
		p.mu.Unlock()
		p.drainIdle(ctx)
		p.bg.Wait()
		p.drainIdle(ctx)
	}
	select {
	case <-p.drained:
	case <-ctx.Done():
		return fmt.Errorf("closing isolate pool: %d isolates still busy: %w", p.Busy(), ctx.Err())
	}
	p.closeRuntime.Do(func() {
		if p.comp != nil {
			p.comp.Close(ctx)
		}
		for _, img := range p.images {
			if img != nil {
				img.close()
			}
		}
		if p.rt != nil {
			p.rt.Close(ctx)
		}
		if p.cache != nil {
			p.cache.Close(ctx)
		}
	})
	return nil
}

func (p *Pool[V]) drainIdle(ctx context.Context) {
	for {
		select {
		case iso := <-p.idle:
			iso.state.Store(uint32(StateIdle))
			iso.close(ctx)
		default:
			return
		}
	}
}

// countFiles counts the regular files below dir, to tell whether a compile
// added to the cache (a miss) or not (a hit).
func countFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}
