// Package component runs WebAssembly components (the component model of
// WASI 0.2) on stock wazero, which runs core modules only.
//
// [Load] decodes a component (package binary), links it once against a
// [Host] — the interfaces the host provides, by name and semver-compatible
// version — and compiles its embedded core modules. The result is a plan:
// the core instances to create in order, each core module's imports
// renamed at load to point straight at the core instance or host function
// that provides them. [Component.Instantiate] runs the plan: one anonymous
// wazero instantiation per core instance, wired by an import resolver, so
// an [Instance] shares nothing with another. Values cross the boundary by
// the canonical ABI (package cabi); resources live in per-instance handle
// tables.
//
// Not supported yet, refused at load with the feature named: the
// component-model async proposal (async functions and canonical
// options, streams, futures, error contexts, the task and waitable
// built-ins), which WASI 0.3 needs; component start functions and value
// definitions; fixed-length lists; importing anything but instances and
// functions from the host.
package component

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/runtimepool/component/binary"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// Component is a component loaded into a wazero runtime, ready to
// instantiate any number of times. It is safe for concurrent use.
type Component struct {
	rt        wazero.Runtime
	steps     []coreStep
	stepIndex map[string]int
	hostName  string
	hostMod   api.Module
	hostFuncs []*hostFuncSpec
	funcSlots []coreRef
	memSlots  []coreRef
	tables    int
	guestRes  map[*cabi.Resource]*guestResource
	hostDrops map[*cabi.Resource]func(any)
	exports   map[string]item
	info      Info
	// initialPages is the initial size of all the memories an instance
	// defines, in 64 KiB pages.
	initialPages uint64
}

// Info describes a component: what it imports, what it exports, what
// the host it was linked against lacks.
type Info struct {
	Imports []ImportInfo
	Exports []ExportInfo
	// Missing lists the imports the host does not provide: interfaces
	// ("wasi:sockets/tcp@0.2.0"), functions and resources of provided
	// interfaces ("wasi:io/streams@0.2.0#[method]output-stream.write").
	Missing []string
}

// ImportInfo is one import of a component.
type ImportInfo struct {
	// Name is the import's name: "wasi:io/streams@0.2.0".
	Name string
	// Kind is "instance" or "func".
	Kind string
	// Provided says whether the host provides it.
	Provided bool
	// Funcs and Resources are what an imported instance declares.
	Funcs, Resources []string
}

// ExportInfo is one export of a component.
type ExportInfo struct {
	// Name is the export's name: "wasi:http/incoming-handler@0.2.0".
	Name string
	// Kind is the sort exported: "instance", "func", "type"...
	Kind string
	// Funcs are the functions of an exported instance.
	Funcs []string
}

var hostModules atomic.Uint64

// Load decodes, links and compiles a component in rt. Imports are bound to
// host; an import the host does not provide is an error naming every one
// missing. The component's core modules are compiled in rt (through its
// compilation cache, if any) and its host functions defined there, so the
// component must be closed before rt.
func Load(ctx context.Context, rt wazero.Runtime, bin []byte, host *Host) (*Component, error) {
	return LoadWith(ctx, rt, bin, host, Options{})
}

// Options are the choices of LoadWith. The zero value is Load's.
type Options struct {
	// MemoryImages takes the initial contents of each core module's memory
	// out of the module, as an image (see MemoryImage) the embedder must
	// give each new memory of that core instance before the module sees
	// it: a memory allocator that maps the image copy-on-write makes a
	// new instance's memory cost nothing, whatever its size. Instantiating
	// without putting the image in place gives the guest zeroed memory.
	MemoryImages bool
}

// LoadWith is Load with options.
func LoadWith(ctx context.Context, rt wazero.Runtime, bin []byte, host *Host, o Options) (*Component, error) {
	c, err := link(ctx, rt, bin, host, false, o.MemoryImages)
	if err != nil {
		return nil, err
	}
	if len(c.info.Missing) > 0 && (host == nil || !host.TrapMissing) {
		c.Close(ctx)
		return nil, missingError(c.info.Missing)
	}
	hb := rt.NewHostModuleBuilder(c.hostName)
	for i, spec := range c.hostFuncs {
		hb.NewFunctionBuilder().
			WithGoModuleFunction(hostModuleFunc(spec), spec.coreParams, spec.coreResults).
			WithName(spec.name).
			Export("f" + strconv.Itoa(i))
	}
	if c.hostMod, err = hb.Instantiate(ctx); err != nil {
		c.Close(ctx)
		return nil, fmt.Errorf("defining the component's host functions: %w", err)
	}
	return c, nil
}

// Inspect decodes and links a component against host without compiling
// it, and describes it; host may be nil, and then every import is
// missing. Errors are those of a component that cannot be linked at all,
// not missing imports: Info.Missing lists those.
func Inspect(bin []byte, host *Host) (*Info, error) {
	c, err := link(context.Background(), nil, bin, host, true, false)
	if err != nil {
		return nil, err
	}
	return &c.info, nil
}

func link(ctx context.Context, rt wazero.Runtime, bin []byte, host *Host, dry, images bool) (*Component, error) {
	ast, err := binary.Decode(bin)
	if err != nil {
		return nil, err
	}
	c := &Component{
		rt:        rt,
		stepIndex: map[string]int{},
		hostName:  "wasmserve:component#" + strconv.Itoa(int(hostModules.Add(1))),
		tables:    1,
		guestRes:  map[*cabi.Resource]*guestResource{},
		hostDrops: map[*cabi.Resource]func(any){},
	}
	l := &linker{ctx: ctx, c: c, host: host, dry: dry, images: images, funcSlot: map[coreRef]int{}, memSlot: map[coreRef]int{}}
	top := &scope{table: 0, what: "the component"}
	if err := l.component(ast, top, 0); err != nil {
		c.Close(ctx)
		return nil, err
	}
	c.exports = top.exports
	c.info.Imports = l.imports
	c.info.Missing = l.missing
	for _, e := range ast.Exports() {
		ei := ExportInfo{Name: e.Name, Kind: e.Ref.Sort.String()}
		if inst, ok := top.exports[e.Name].v.(*instVal); ok {
			for name, it := range inst.exports {
				if it.sort == binary.SortFunc {
					ei.Funcs = append(ei.Funcs, name)
				}
			}
		}
		c.info.Exports = append(c.info.Exports, ei)
	}
	return c, nil
}

// Info describes the component.
func (c *Component) Info() Info { return c.info }

// InitialMemoryPages is the initial size, in 64 KiB pages, of all the
// linear memories one instance of the component defines together.
func (c *Component) InitialMemoryPages() uint64 { return c.initialPages }

// Steps is the number of core instances an instance of the component has:
// the steps of InstantiateOptions.
func (c *Component) Steps() int { return len(c.steps) }

// MemoryImage returns the initial contents of the memory that core
// instance step defines, with Options.MemoryImages: the embedder's memory
// allocator must give them to the memory it makes for that step (pages
// past the image are zeros). Nil means the step's module initialises its
// memory itself.
func (c *Component) MemoryImage(step int) []byte { return c.steps[step].image }

// Close releases the component's compiled modules and host functions.
// Instances must be closed first.
func (c *Component) Close(ctx context.Context) error {
	if c.hostMod != nil {
		c.hostMod.Close(ctx)
	}
	for _, s := range c.steps {
		if s.module != nil {
			s.module.Close(ctx)
		}
	}
	return nil
}

// Func is a function a component exports, callable on any of its
// instances with Instance.Call.
type Func struct {
	c  *Component
	lf *liftedFunc
}

// Params are the function's parameters.
func (f *Func) Params() []Param { return f.lf.params }

// Results are the function's result types.
func (f *Func) Results() []*cabi.Type { return f.lf.results }

// Func finds an exported function: by its name alone ("run") for a
// function the component exports itself, or by the exporting interface and
// the function's name ("wasi:http/incoming-handler@0.2.0", "handle"). An
// interface is matched as imports are: the same name at a semver-compatible
// version.
func (c *Component) Func(names ...string) (*Func, error) {
	if len(names) == 0 || len(names) > 2 {
		return nil, fmt.Errorf("give a function name, or an interface and a function name")
	}
	exports := c.exports
	path := names[0]
	if len(names) == 2 {
		it, ok := c.exportedInstance(names[0])
		if !ok {
			return nil, fmt.Errorf("the component does not export %s", names[0])
		}
		exports = it.exports
		path = strings.Join(names, "#")
	}
	it, ok := exports[names[len(names)-1]]
	if !ok || it.sort != binary.SortFunc {
		return nil, fmt.Errorf("the component does not export function %s", path)
	}
	lf, ok := it.v.(*liftedFunc)
	if !ok {
		return nil, fmt.Errorf("%s re-exports a host function; call the host directly", path)
	}
	return &Func{c: c, lf: lf}, nil
}

// Exports reports whether the component exports an instance compatible
// with the interface name ("wasi:http/incoming-handler@0.2.0").
func (c *Component) Exports(iface string) bool {
	_, ok := c.exportedInstance(iface)
	return ok
}

func (c *Component) exportedInstance(iface string) (*instVal, bool) {
	want, wv, err := splitVersion(iface)
	if err != nil {
		return nil, false
	}
	for name, it := range c.exports {
		inst, ok := it.v.(*instVal)
		if !ok {
			continue
		}
		have, hv, err := splitVersion(name)
		if err == nil && have == want && compatible(wv, hv) {
			return inst, true
		}
	}
	return nil, false
}
