package runtimepool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/wasmserve/wasmserve/runtimepool/component"
)

// ComponentResetBlocker is Stats.ResetBlocker of a component's pool: its
// instances are never reset to an image of their state, always replaced.
const ComponentResetBlocker = "it is a component: its instances are replaced, never reset"

// NewComponent loads a component (see package runtimepool/component) into
// a new runtime, linking its imports to host, and fills the pool with its
// instances: each isolate is one component instance, its core instances
// sharing nothing with another isolate's. A component that does not link
// or compile is an error here, before anything is served.
//
// Of cfg, what belongs to core modules does not apply: Installers, WASI,
// Validate, Bind, Output, Stdio, Dirs, Env, NoStart, ResetSafeImports,
// Listener and StartTimeout (the host's interfaces give a component its
// environment, files and output). Interruptible makes calls end when
// their context is done (Stats.Interrupt is then InterruptContext): a
// component's core modules are not rewritten. MemoryLimitPages caps the
// sum of an instance's memories (on Linux; elsewhere each memory). BindComponent attaches the instance to the
// isolate's value.
func NewComponent[V any](ctx context.Context, bin []byte, host *component.Host, cfg Config[V]) (*Pool[V], error) {
	p, err := newPoolBase(cfg)
	if err != nil {
		return nil, err
	}
	p.stats.ResetBlocker = ComponentResetBlocker
	interruptible := cfg.Interruptible || cfg.CloseOnContextDone
	if interruptible {
		p.stats.Interrupt = InterruptContext
	}
	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(interruptible)
	if rc, err = p.runtimeConfig(rc); err != nil {
		return nil, err
	}
	p.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	ok := false
	defer func() {
		if !ok {
			p.Close(ctx)
		}
	}()
	start := time.Now()
	before := -1
	if cfg.CacheDir != "" {
		before = countFiles(cfg.CacheDir)
	}
	cctx := experimental.WithCompilationWorkers(ctx, runtime.GOMAXPROCS(0))
	if p.comp, err = component.LoadWith(cctx, p.rt, bin, host, component.Options{MemoryImages: memoryImagesSupported}); err != nil {
		return nil, err
	}
	if limit := uint64(cfg.MemoryLimitPages); memoryImagesSupported && limit > 0 && p.comp.InitialMemoryPages() > limit {
		return nil, fmt.Errorf("the component's memories start at %d pages (%d KiB) in all, over the memory limit of %d pages",
			p.comp.InitialMemoryPages(), p.comp.InitialMemoryPages()*64, limit)
	}
	p.images = make([]*memImage, p.comp.Steps())
	for k := range p.images {
		if b := p.comp.MemoryImage(k); b != nil {
			if p.images[k], err = newMemImage(b); err != nil {
				return nil, err
			}
		}
	}
	p.stats.CompileTime = time.Since(start)
	if before >= 0 {
		p.stats.CacheHit = countFiles(cfg.CacheDir) == before && before > 0
	}
	if err := p.fill(ctx, nil); err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

// Component returns the loaded component of a pool made by NewComponent,
// or nil.
func (p *Pool[V]) Component() *component.Component { return p.comp }

// newPoolBase checks what every pool's configuration must satisfy and makes
// the pool, without its runtime.
func newPoolBase[V any](cfg Config[V]) (*Pool[V], error) {
	size := cfg.Isolates
	switch {
	case size < 0:
		return nil, fmt.Errorf("isolates must be 0 (one per CPU) or more, got %d", size)
	case size == 0:
		size = runtime.NumCPU()
	}
	if cfg.MaxQueue < 0 || cfg.MaxRequestsPerIsolate < 0 || cfg.QueueTimeout < 0 {
		return nil, errors.New("queue bounds and requests per isolate must not be negative")
	}
	p := &Pool[V]{cfg: cfg, size: size, log: cfg.Logger, closing: make(chan struct{}), drained: make(chan struct{})}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// runtimeConfig adds the memory limit and the compilation cache to rc.
func (p *Pool[V]) runtimeConfig(rc wazero.RuntimeConfig) (wazero.RuntimeConfig, error) {
	if p.cfg.MemoryLimitPages > 0 {
		rc = rc.WithMemoryLimitPages(p.cfg.MemoryLimitPages)
	}
	switch {
	case p.cfg.Cache != nil:
		rc = rc.WithCompilationCache(p.cfg.Cache)
	case p.cfg.CacheDir != "":
		c, err := wazero.NewCompilationCacheWithDir(p.cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("opening compilation cache %s: %w", p.cfg.CacheDir, err)
		}
		p.cache = c
		rc = rc.WithCompilationCache(c)
	}
	return rc, nil
}

// fill makes the pool's first isolates; first, when set, sees the first
// one before it serves.
func (p *Pool[V]) fill(ctx context.Context, first func(*Isolate[V])) error {
	p.idle = make(chan *Isolate[V], p.size)
	start := time.Now()
	for i := 0; i < p.size; i++ {
		iso, err := p.instantiate(ctx)
		if err != nil {
			p.drainIdle(ctx)
			return err
		}
		if i == 0 && first != nil {
			first(iso)
		}
		p.idle <- iso
	}
	p.stats.InstantiateTime = time.Since(start)
	return nil
}

// instantiateComponent creates one isolate of a component's pool: a new
// component instance, each of its memories in an allocator of its own.
func (p *Pool[V]) instantiateComponent(ctx context.Context) (*Isolate[V], error) {
	id := "i" + strconv.FormatUint(p.nextID.Add(1), 10)
	iso := &Isolate[V]{ID: id, pool: p, woken: make(chan struct{})}
	ictx := ctx
	if p.cfg.Prepare != nil {
		ictx, iso.Value = p.cfg.Prepare(ctx, id)
	}
	var alloc *memoryAllocator
	var budget *memBudget
	if p.cfg.MemoryLimitPages > 0 {
		budget = &memBudget{limit: int(p.cfg.MemoryLimitPages) << 16}
	}
	inst, err := p.comp.InstantiateWith(ictx, component.InstantiateOptions{
		Before: func(ctx context.Context, step int) context.Context {
			ctx, alloc = withImageAllocator(ctx, p.images[step], budget)
			return ctx
		},
		After: func(_ int, mod api.Module, err error) {
			if err != nil {
				alloc.release()
			} else {
				alloc.bindMemory(mod)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("instantiating isolate %s: %w", id, err)
	}
	iso.Component = inst
	if p.cfg.BindComponent != nil {
		if err := p.cfg.BindComponent(iso.Value, inst); err != nil {
			iso.close(ctx)
			return nil, err
		}
	}
	return iso, nil
}
