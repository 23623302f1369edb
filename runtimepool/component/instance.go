package component

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// Instance is one instance of a component: its own core instances, memories,
// tables and resource handles, sharing nothing with another Instance. It is
// used by one goroutine at a time. A trap in any of its core instances, or
// a host function's error, breaks the whole instance: every later call
// fails with ErrBroken and the caller should close it and make another.
type Instance struct {
	c      *Component
	mods   []api.Module
	funcs  []api.Function // by function slot, resolved on first use
	mems   []api.Memory   // by memory slot, resolved on first use
	tables []handleTable
	// entered is set while a call from the host runs in the instance:
	// the component model forbids entering an instance again from inside.
	entered bool
	broken  error

	// Data is the embedder's value for this instance, such as the request
	// it serves; host functions reach it through InstanceOf.
	Data any
}

// ErrBroken is returned by calls into an instance a trap has broken.
var ErrBroken = errors.New("component instance is broken by an earlier trap")

type instanceKey struct{}

// InstanceOf returns the instance a host function is called from, or nil
// outside any.
func InstanceOf(ctx context.Context) *Instance {
	i, _ := ctx.Value(instanceKey{}).(*Instance)
	return i
}

// Instantiate creates a new instance of the component: each of its core
// instances in the plan's order, wired to each other and to the host.
func (c *Component) Instantiate(ctx context.Context) (*Instance, error) {
	return c.InstantiateWith(ctx, InstantiateOptions{})
}

// InstantiateOptions let an embedder take part in each core instantiation
// of a component instance, as a pool does to give every linear memory its
// own allocator.
type InstantiateOptions struct {
	// Before, when set, returns the context to instantiate core instance
	// step with.
	Before func(ctx context.Context, step int) context.Context
	// After, when set, is told how the instantiation of core instance
	// step ended: its module, or the error.
	After func(step int, mod api.Module, err error)
}

// InstantiateWith is Instantiate with the embedder's options.
func (c *Component) InstantiateWith(ctx context.Context, o InstantiateOptions) (*Instance, error) {
	inst := &Instance{
		c:      c,
		mods:   make([]api.Module, 0, len(c.steps)),
		funcs:  make([]api.Function, len(c.funcSlots)),
		mems:   make([]api.Memory, len(c.memSlots)),
		tables: make([]handleTable, c.tables),
	}
	for k := range inst.tables {
		inst.tables[k].drop = inst.dropResource
	}
	ctx = context.WithValue(ctx, instanceKey{}, inst)
	ctx = experimental.WithImportResolver(ctx, inst.resolve)
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions()
	for k, step := range c.steps {
		sctx := ctx
		if o.Before != nil {
			sctx = o.Before(ctx, k)
		}
		m, err := c.rt.InstantiateModule(sctx, step.module, cfg)
		if o.After != nil {
			o.After(k, m, err)
		}
		if err != nil {
			inst.Close(ctx)
			return nil, fmt.Errorf("instantiating %s: %w", step.what, err)
		}
		inst.mods = append(inst.mods, m)
	}
	return inst, nil
}

// resolve answers the renamed imports of the plan's core modules with this
// instance's core instances.
func (i *Instance) resolve(name string) api.Module {
	if k, ok := i.c.stepIndex[name]; ok && k < len(i.mods) {
		return i.mods[k]
	}
	// The host module is found by its name: wazero resolves it itself.
	return nil
}

// Close releases the instance: the host resources its handles still hold,
// then its core instances.
func (i *Instance) Close(ctx context.Context) error {
	for k := range i.tables {
		i.tables[k].closeAll(ctx)
	}
	var errs []error
	for k := len(i.mods) - 1; k >= 0; k-- {
		errs = append(errs, i.mods[k].Close(ctx))
	}
	i.mods = nil
	if i.broken == nil {
		i.broken = errors.New("component instance is closed")
	}
	return errors.Join(errs...)
}

// Component returns the component the instance is of.
func (i *Instance) Component() *Component { return i.c }

// Broken returns the trap that broke the instance, or nil.
func (i *Instance) Broken() error { return i.broken }

func (i *Instance) fn(slot int) (api.Function, error) {
	if f := i.funcs[slot]; f != nil {
		return f, nil
	}
	ref := i.c.funcSlots[slot]
	var f api.Function
	if ref.inst == hostInst {
		f = i.c.hostMod.ExportedFunction(ref.name)
	} else if ref.inst < len(i.mods) {
		f = i.mods[ref.inst].ExportedFunction(ref.name)
	}
	if f == nil {
		return nil, fmt.Errorf("core instance %d has no function %q", ref.inst, ref.name)
	}
	i.funcs[slot] = f
	return f, nil
}

func (i *Instance) mem(slot int) (api.Memory, error) {
	if m := i.mems[slot]; m != nil {
		return m, nil
	}
	ref := i.c.memSlots[slot]
	var m api.Memory
	if ref.inst >= 0 && ref.inst < len(i.mods) {
		m = i.mods[ref.inst].ExportedMemory(ref.name)
	}
	if m == nil {
		return nil, fmt.Errorf("core instance %d has no memory %q", ref.inst, ref.name)
	}
	i.mems[slot] = m
	return m, nil
}

// options builds the cabi options of one call.
func (i *Instance) options(ctx context.Context, o *canonOpts) (*cabi.Options, error) {
	opts := &cabi.Options{Encoding: o.encoding}
	if o.memory >= 0 {
		m, err := i.mem(o.memory)
		if err != nil {
			return nil, err
		}
		opts.Memory = m
	}
	if o.realloc >= 0 {
		f, err := i.fn(o.realloc)
		if err != nil {
			return nil, err
		}
		opts.Realloc = func(ctx context.Context, oldPtr, oldSize, align, newSize uint32) (uint32, error) {
			res, err := f.Call(ctx, uint64(oldPtr), uint64(oldSize), uint64(align), uint64(newSize))
			if err != nil {
				return 0, err
			}
			if len(res) != 1 {
				return 0, fmt.Errorf("cabi_realloc returned %d values", len(res))
			}
			return uint32(res[0]), nil
		}
	}
	return opts, nil
}

// Call calls a function the component exports with Go values as package
// cabi maps them, and returns its results likewise. A trap breaks the
// instance.
func (i *Instance) Call(ctx context.Context, f *Func, args ...any) ([]any, error) {
	if f.c != i.c {
		return nil, fmt.Errorf("calling %s: the function belongs to another component", f.lf.name)
	}
	if i.broken != nil {
		return nil, fmt.Errorf("calling %s: %w", f.lf.name, ErrBroken)
	}
	if i.entered {
		return nil, fmt.Errorf("calling %s: the instance is already in a call (a component cannot be re-entered)", f.lf.name)
	}
	i.entered = true
	defer func() { i.entered = false }()
	ctx = context.WithValue(ctx, instanceKey{}, i)
	out, err := i.callLifted(ctx, f.lf, args)
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", f.lf.name, err)
	}
	return out, nil
}

// callLifted runs a lifted function: lowers the arguments into the guest,
// calls the core function, lifts its results, runs post-return, and checks
// that the guest gave back every borrowed handle.
func (i *Instance) callLifted(ctx context.Context, lf *liftedFunc, args []any) ([]any, error) {
	if len(args) != len(lf.ptypes) {
		return nil, fmt.Errorf("%d arguments for %d parameters", len(args), len(lf.ptypes))
	}
	opts, err := i.options(ctx, &lf.opts)
	if err != nil {
		return nil, i.trap(err)
	}
	scope := &callScope{}
	call := &cabi.Call{Ctx: ctx, Opts: opts, Handles: handles{t: &i.tables[lf.table], scope: scope}}
	flat, err := cabi.LowerArgs(call, lf.ptypes, args)
	if err != nil {
		return nil, i.trap(err)
	}
	fn, err := i.fn(lf.core)
	if err != nil {
		return nil, i.trap(err)
	}
	res, err := fn.Call(ctx, flat...)
	if err != nil {
		return nil, i.trap(err)
	}
	out, err := cabi.LiftResults(call, lf.results, res)
	if err != nil {
		return nil, i.trap(err)
	}
	if lf.opts.postReturn >= 0 {
		pr, err := i.fn(lf.opts.postReturn)
		if err != nil {
			return nil, i.trap(err)
		}
		if _, err := pr.Call(ctx, res...); err != nil {
			return nil, i.trap(fmt.Errorf("post-return: %w", err))
		}
	}
	if scope.borrows != 0 {
		return nil, i.trap(fmt.Errorf("returned with %d borrowed handles not dropped", scope.borrows))
	}
	return out, nil
}

// trap breaks the instance with err and returns it.
func (i *Instance) trap(err error) error {
	if i.broken == nil {
		i.broken = err
	}
	return err
}

// hostCall runs one function of the plan's host module for the guest.
func (i *Instance) hostCall(ctx context.Context, spec *hostFuncSpec, stack []uint64) error {
	t := &i.tables[spec.table]
	switch spec.kind {
	case hostResourceNew:
		h, err := t.newOwn(spec.res, uint32(stack[0]))
		stack[0] = uint64(h)
		return err
	case hostResourceRep:
		rep, err := t.rep(spec.res, uint32(stack[0]))
		stack[0] = uint64(rep)
		return err
	case hostResourceDrop:
		return t.dropHandle(ctx, spec.res, uint32(stack[0]))
	}
	opts, err := i.options(ctx, &spec.opts)
	if err != nil {
		return err
	}
	call := &cabi.Call{Ctx: ctx, Opts: opts, Handles: handles{t: t}}
	nparams := len(spec.coreParams)
	core := stack[:nparams]
	args, err := cabi.LiftArgs(call, spec.ptypes, core)
	if err != nil {
		return err
	}
	var results []any
	if spec.host != nil {
		results, err = spec.host.Call(ctx, args)
	} else {
		results, err = i.callLifted(ctx, spec.lifted, args)
	}
	if err != nil {
		return err
	}
	if len(results) != len(spec.results) {
		return fmt.Errorf("the host function returned %d results for %d", len(results), len(spec.results))
	}
	flat, err := cabi.LowerResults(call, spec.results, results, core)
	if err != nil {
		return err
	}
	copy(stack, flat)
	return nil
}

// dropResource releases what an owning handle held.
func (i *Instance) dropResource(ctx context.Context, r *cabi.Resource, v any) error {
	if rep, ok := v.(uint32); ok {
		g := i.c.guestRes[r]
		if g == nil || g.dtor < 0 {
			return nil
		}
		f, err := i.fn(g.dtor)
		if err != nil {
			return err
		}
		_, err = f.Call(ctx, uint64(rep))
		return err
	}
	if d := i.c.hostDrops[r]; d != nil {
		d(v)
	}
	return nil
}

// hostModuleFunc is the Go function behind one host-module function: it
// finds the calling instance in ctx and traps the guest on any error.
func hostModuleFunc(spec *hostFuncSpec) api.GoModuleFunc {
	return func(ctx context.Context, _ api.Module, stack []uint64) {
		inst := InstanceOf(ctx)
		if inst == nil {
			panic(fmt.Errorf("%s: called outside a component instance", spec.name))
		}
		if err := inst.hostCall(ctx, spec, stack); err != nil {
			err = fmt.Errorf("%s: %w", spec.name, err)
			inst.trap(err)
			panic(err)
		}
	}
}
