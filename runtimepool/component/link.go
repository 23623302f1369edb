package component

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
	"github.com/wasmserve/wasmserve/runtimepool/component/binary"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// The linker evaluates a component's definitions in section order, as the
// component model's instantiation would, but once and at load: each index
// space holds what its items are (a core module's bytes, a core instance
// as a plan step or a bundle of core items, a resolved type, a host or
// lifted function, a nested component with its scope, an instance's
// exports). What an isolate must do at run time lands in the plan.

// Limits on what one component may make the linker do.
const (
	// maxInstantiations bounds core and component instantiations in all:
	// a small component instantiating a nested one repeatedly must not
	// make the linker's work explode.
	maxInstantiations = 10_000
	// maxLinkDepth bounds nested component instantiation.
	maxLinkDepth = 64
	// maxLinkWork bounds the definitions evaluated in all: a nested
	// component is evaluated again at each instantiation.
	maxLinkWork = 1 << 22
)

// item is one entry of an index space.
type item struct {
	sort binary.Sort
	v    any
}

// Values of the index spaces.
type (
	// coreModuleVal is a core module: its bytes.
	coreModuleVal struct {
		bytes []byte
		what  string
	}
	// coreInstVal is a core instance: a plan step (step ≥ 0), or a
	// bundle of core items made from exports.
	coreInstVal struct {
		step  int
		items map[string]coreRef
	}
	// funcTypeVal is a component function type.
	funcTypeVal struct {
		params  []Param
		results []*cabi.Type
	}
	// instTypeVal is an instance type, kept to bind an import to.
	instTypeVal struct {
		ast *binary.InstanceType
		sc  *scope
	}
	// compTypeVal is a component type.
	compTypeVal struct{ ast *binary.ComponentType }
	// hostFuncVal is a function the host provides, seen with the type
	// the component declared for it.
	hostFuncVal struct {
		name string
		f    *HostFunc
		typ  *funcTypeVal
	}
	// compVal is a nested component and the scope it was defined in,
	// which its outer aliases reach.
	compVal struct {
		ast    *binary.Component
		parent *scope
		what   string
	}
	// instVal is a component instance: its exports by name.
	instVal struct {
		name    string
		exports map[string]item
	}
)

// scope is one component (or component or instance type) being
// evaluated: its index spaces and, for a nested component, the arguments
// its imports are bound to.
type scope struct {
	parent  *scope
	spaces  [binary.NumSorts][]any
	args    map[string]item // nil for the outermost component
	table   int             // the component instance's handle table
	exports map[string]item
	what    string
}

func (sc *scope) add(s binary.Sort, v any) { sc.spaces[s] = append(sc.spaces[s], v) }

func (sc *scope) get(s binary.Sort, i uint32) (any, error) {
	if int64(i) >= int64(len(sc.spaces[s])) {
		return nil, fmt.Errorf("%s index %d out of range (%d defined)", s, i, len(sc.spaces[s]))
	}
	return sc.spaces[s][i], nil
}

// linker builds one Component's plan.
type linker struct {
	ctx  context.Context
	c    *Component
	host *Host
	dry  bool // inspect only: do not compile core modules
	// images makes memory images of the core modules that allow them.
	images bool
	count  int // instantiations so far
	work   int // definitions evaluated so far
	// missing lists what the component imports that the host lacks.
	missing []string
	// funcSlot and memSlot dedupe the plan's function and memory slots.
	funcSlot map[coreRef]int
	memSlot  map[coreRef]int
	// info collects what inspection reports.
	imports []ImportInfo
}

// unsupportedError names a feature of the component model wasmserve does not
// run yet.
func unsupported(what string) error {
	return fmt.Errorf("%s is not supported: wasmserve runs synchronous WASI 0.2 components (component-model async and WASI 0.3 are not supported yet)", what)
}

func (l *linker) component(ast *binary.Component, sc *scope, depth int) error {
	if depth > maxLinkDepth {
		return fmt.Errorf("components nested more than %d deep", maxLinkDepth)
	}
	for _, sec := range ast.Sections {
		if l.work += 1 + sectionItems(sec); l.work > maxLinkWork {
			return fmt.Errorf("linking evaluates more than %d definitions (a nested component instantiated too often?)", maxLinkWork)
		}
		if err := l.section(sec, sc, depth); err != nil {
			return fmt.Errorf("%s, %s section at offset %#x: %w", sc.what, sec.ID(), sec.Offset(), err)
		}
	}
	return nil
}

func (l *linker) section(sec binary.Section, sc *scope, depth int) error {
	switch s := sec.(type) {
	case *binary.CustomSection:
	case *binary.CoreModuleSection:
		// wazero never sees a malformed module: the project's structural
		// pre-check first, as for a module served alone.
		what := fmt.Sprintf("core module %d of %s", len(sc.spaces[binary.SortCoreModule]), sc.what)
		if err := wasmbin.Check(s.Module); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		sc.add(binary.SortCoreModule, &coreModuleVal{bytes: s.Module, what: what})
	case *binary.CoreInstanceSection:
		for i := range s.Instances {
			v, err := l.coreInstance(&s.Instances[i], sc)
			if err != nil {
				return fmt.Errorf("core instance %d: %w", len(sc.spaces[binary.SortCoreInstance]), err)
			}
			sc.add(binary.SortCoreInstance, v)
		}
	case *binary.CoreTypeSection:
		for _, t := range s.Types {
			n := 1
			if rt, ok := t.(*binary.CoreRecType); ok {
				n = len(rt.Types)
			}
			for ; n > 0; n-- {
				sc.add(binary.SortCoreType, nil) // core types are wazero's to check
			}
		}
	case *binary.ComponentSection:
		sc.add(binary.SortComponent, &compVal{ast: s.Component, parent: sc,
			what: fmt.Sprintf("component %d of %s", len(sc.spaces[binary.SortComponent]), sc.what)})
	case *binary.InstanceSection:
		for i := range s.Instances {
			v, err := l.instance(&s.Instances[i], sc, depth)
			if err != nil {
				return fmt.Errorf("instance %d: %w", len(sc.spaces[binary.SortInstance]), err)
			}
			sc.add(binary.SortInstance, v)
		}
	case *binary.AliasSection:
		for i := range s.Aliases {
			v, err := l.alias(&s.Aliases[i], sc)
			if err != nil {
				return err
			}
			sc.add(s.Aliases[i].Target, v)
		}
	case *binary.TypeSection:
		for _, t := range s.Types {
			v, err := l.defType(t, sc)
			if err != nil {
				return fmt.Errorf("type %d: %w", len(sc.spaces[binary.SortType]), err)
			}
			sc.add(binary.SortType, v)
		}
	case *binary.CanonSection:
		for i := range s.Canons {
			if err := l.canon(&s.Canons[i], sc); err != nil {
				return fmt.Errorf("canon %s: %w", s.Canons[i].Kind, err)
			}
		}
	case *binary.StartSection:
		return unsupported("a component start function")
	case *binary.ImportSection:
		for i := range s.Imports {
			imp := &s.Imports[i]
			v, err := l.importItem(imp, sc)
			if err != nil {
				return fmt.Errorf("import %q: %w", imp.Name, err)
			}
			sc.add(imp.Type.Sort, v)
		}
	case *binary.ExportSection:
		for i := range s.Exports {
			e := &s.Exports[i]
			v, err := sc.get(e.Ref.Sort, e.Ref.Index)
			if err != nil {
				return fmt.Errorf("export %q: %w", e.Name, err)
			}
			if r, ok := v.(*cabi.Resource); ok && strings.HasPrefix(r.Name, "resource ") {
				r.Name = e.Name
			}
			if lf, ok := v.(*liftedFunc); ok && strings.HasPrefix(lf.name, "lifted function ") {
				lf.name = e.Name
			}
			if sc.exports == nil {
				sc.exports = map[string]item{}
			}
			sc.exports[e.Name] = item{sort: e.Ref.Sort, v: v}
			sc.add(e.Ref.Sort, v)
		}
	case *binary.ValueSection:
		return unsupported("a value definition")
	default:
		return fmt.Errorf("unknown section %T", sec)
	}
	return nil
}

// sectionItems is how many definitions a section holds.
func sectionItems(sec binary.Section) int {
	switch s := sec.(type) {
	case *binary.CoreInstanceSection:
		return len(s.Instances)
	case *binary.CoreTypeSection:
		return len(s.Types)
	case *binary.InstanceSection:
		return len(s.Instances)
	case *binary.AliasSection:
		return len(s.Aliases)
	case *binary.TypeSection:
		return len(s.Types)
	case *binary.CanonSection:
		return len(s.Canons)
	case *binary.ImportSection:
		return len(s.Imports)
	case *binary.ExportSection:
		return len(s.Exports)
	}
	return 0
}

// coreInstance instantiates a core module, as a plan step, or bundles core
// items.
func (l *linker) coreInstance(ci *binary.CoreInstance, sc *scope) (*coreInstVal, error) {
	if ci.FromExports {
		items := make(map[string]coreRef, len(ci.Exports))
		for _, e := range ci.Exports {
			ref, err := l.coreItem(sc, e.Ref)
			if err != nil {
				return nil, fmt.Errorf("export %q: %w", e.Name, err)
			}
			items[e.Name] = ref
		}
		return &coreInstVal{step: -1, items: items}, nil
	}
	if l.count++; l.count > maxInstantiations {
		return nil, fmt.Errorf("more than %d instantiations", maxInstantiations)
	}
	mv, err := sc.get(binary.SortCoreModule, ci.Module)
	if err != nil {
		return nil, err
	}
	mod := mv.(*coreModuleVal)
	args := make(map[string]*coreInstVal, len(ci.Args))
	for _, a := range ci.Args {
		v, err := sc.get(binary.SortCoreInstance, a.Ref.Index)
		if err != nil {
			return nil, fmt.Errorf("argument %q: %w", a.Name, err)
		}
		args[a.Name] = v.(*coreInstVal)
	}
	var rerr error
	renamed, err := renameImports(mod.bytes, func(imp coreImport) (string, string) {
		arg, ok := args[imp.Module]
		if !ok {
			if rerr == nil {
				rerr = fmt.Errorf("%s imports %s.%s, which the instantiation does not give", mod.what, imp.Module, imp.Name)
			}
			return imp.Module, imp.Name
		}
		if arg.step >= 0 {
			return stepName(arg.step), imp.Name
		}
		ref, ok := arg.items[imp.Name]
		if !ok {
			if rerr == nil {
				rerr = fmt.Errorf("%s imports %s.%s, which its argument %q does not export", mod.what, imp.Module, imp.Name, imp.Module)
			}
			return imp.Module, imp.Name
		}
		if ref.inst == hostInst {
			return l.c.hostName, ref.name
		}
		return stepName(ref.inst), ref.name
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mod.what, err)
	}
	if rerr != nil {
		return nil, rerr
	}
	k := len(l.c.steps)
	step := coreStep{what: fmt.Sprintf("core instance %d (%s)", k, mod.what)}
	pages, err := definedMemoryPages(renamed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mod.what, err)
	}
	l.c.initialPages += pages
	if l.images && !l.dry {
		stripped, image, ok, err := memoryImage(renamed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mod.what, err)
		}
		if ok {
			renamed, step.image = stripped, image
		}
	}
	if !l.dry {
		cm, err := l.c.rt.CompileModule(l.ctx, renamed)
		if err != nil {
			return nil, fmt.Errorf("compiling %s: %w", mod.what, err)
		}
		step.module = cm
	}
	l.c.steps = append(l.c.steps, step)
	l.c.stepIndex[stepName(k)] = k
	return &coreInstVal{step: k}, nil
}

// coreItem resolves a core sort index to what an import can point at.
func (l *linker) coreItem(sc *scope, ref binary.SortIndex) (coreRef, error) {
	if !ref.Sort.IsCore() || ref.Sort == binary.SortCoreType || ref.Sort == binary.SortCoreModule || ref.Sort == binary.SortCoreInstance {
		return coreRef{}, fmt.Errorf("%s is not a core item an instance can export", ref.Sort)
	}
	v, err := sc.get(ref.Sort, ref.Index)
	if err != nil {
		return coreRef{}, err
	}
	return v.(coreRef), nil
}

// instance instantiates a nested component, or bundles items.
func (l *linker) instance(in *binary.Instance, sc *scope, depth int) (*instVal, error) {
	if in.FromExports {
		exports := make(map[string]item, len(in.Exports))
		for _, e := range in.Exports {
			v, err := sc.get(e.Ref.Sort, e.Ref.Index)
			if err != nil {
				return nil, fmt.Errorf("export %q: %w", e.Name, err)
			}
			exports[e.Name] = item{sort: e.Ref.Sort, v: v}
		}
		return &instVal{exports: exports}, nil
	}
	if l.count++; l.count > maxInstantiations {
		return nil, fmt.Errorf("more than %d instantiations", maxInstantiations)
	}
	cv, err := sc.get(binary.SortComponent, in.Component)
	if err != nil {
		return nil, err
	}
	comp := cv.(*compVal)
	args := make(map[string]item, len(in.Args))
	for _, a := range in.Args {
		v, err := sc.get(a.Ref.Sort, a.Ref.Index)
		if err != nil {
			return nil, fmt.Errorf("argument %q: %w", a.Name, err)
		}
		args[a.Name] = item{sort: a.Ref.Sort, v: v}
	}
	inner := &scope{parent: comp.parent, args: args, table: l.c.tables, what: comp.what}
	l.c.tables++
	if err := l.component(comp.ast, inner, depth+1); err != nil {
		return nil, err
	}
	return &instVal{exports: inner.exports}, nil
}

// alias resolves an alias to the item it names.
func (l *linker) alias(a *binary.Alias, sc *scope) (any, error) {
	switch a.Kind {
	case binary.AliasExport:
		v, err := sc.get(binary.SortInstance, a.Instance)
		if err != nil {
			return nil, err
		}
		inst := v.(*instVal)
		it, ok := inst.exports[a.Name]
		if !ok {
			return nil, fmt.Errorf("alias of %q: instance %d has no export %q", a.Name, a.Instance, a.Name)
		}
		if it.sort != a.Target {
			return nil, fmt.Errorf("alias of %q: it is a %s, not a %s", a.Name, it.sort, a.Target)
		}
		return it.v, nil
	case binary.AliasCoreExport:
		v, err := sc.get(binary.SortCoreInstance, a.Instance)
		if err != nil {
			return nil, err
		}
		ci := v.(*coreInstVal)
		if ci.step >= 0 {
			if a.Target == binary.SortCoreType || a.Target == binary.SortCoreModule || a.Target == binary.SortCoreInstance {
				return nil, fmt.Errorf("core alias of %q: a core instance exports no %s", a.Name, a.Target)
			}
			return coreRef{inst: ci.step, name: a.Name}, nil
		}
		ref, ok := ci.items[a.Name]
		if !ok {
			return nil, fmt.Errorf("core alias of %q: core instance %d has no export %q", a.Name, a.Instance, a.Name)
		}
		return ref, nil
	case binary.AliasOuter:
		switch a.Target {
		case binary.SortType, binary.SortCoreType, binary.SortCoreModule, binary.SortComponent:
		default:
			return nil, fmt.Errorf("outer alias of a %s", a.Target)
		}
		outer := sc
		for n := a.Outer; n > 0; n-- {
			if outer = outer.parent; outer == nil {
				return nil, fmt.Errorf("outer alias %d scopes out, past the outermost component", a.Outer)
			}
		}
		return outer.get(a.Target, a.Index)
	}
	return nil, fmt.Errorf("unknown alias kind %s", a.Kind)
}

// canon defines a lifted function or a core function of the host module.
func (l *linker) canon(cn *binary.Canon, sc *scope) error {
	if !cn.Kind.MVP() {
		return unsupported("canon " + cn.Kind.String())
	}
	switch cn.Kind {
	case binary.CanonLift:
		core, err := sc.get(binary.SortCoreFunc, cn.Func)
		if err != nil {
			return err
		}
		tv, err := sc.get(binary.SortType, cn.Type)
		if err != nil {
			return err
		}
		ft, ok := tv.(*funcTypeVal)
		if !ok {
			return fmt.Errorf("type %d is not a function type", cn.Type)
		}
		opts, err := l.options(cn.Options, sc)
		if err != nil {
			return err
		}
		lf := &liftedFunc{
			name: fmt.Sprintf("lifted function %d of %s", len(sc.spaces[binary.SortFunc]), sc.what),
			core: l.funcSlotOf(core.(coreRef)), params: ft.params, ptypes: paramTypes(ft.params),
			results: ft.results, opts: opts, table: sc.table,
		}
		lf.sig = cabi.FlatFunc(lf.ptypes, lf.results, cabi.Lift)
		if err := checkOpts(lf.ptypes, lf.results, opts, true); err != nil {
			return err
		}
		sc.add(binary.SortFunc, lf)
		return nil
	case binary.CanonLower:
		fv, err := sc.get(binary.SortFunc, cn.Func)
		if err != nil {
			return err
		}
		opts, err := l.options(cn.Options, sc)
		if err != nil {
			return err
		}
		spec := hostFuncSpec{kind: hostLower, opts: opts, table: sc.table}
		switch f := fv.(type) {
		case *hostFuncVal:
			spec.name, spec.host = f.name, f.f
			spec.ptypes, spec.results = paramTypes(f.typ.params), f.typ.results
		case *liftedFunc:
			spec.name, spec.lifted = f.name, f
			spec.ptypes, spec.results = f.ptypes, f.results
		default:
			return fmt.Errorf("function %d cannot be lowered (%T)", cn.Func, fv)
		}
		if err := checkOpts(spec.ptypes, spec.results, opts, false); err != nil {
			return fmt.Errorf("lowering %s: %w", spec.name, err)
		}
		spec.sig = cabi.FlatFunc(spec.ptypes, spec.results, cabi.Lower)
		spec.coreParams, spec.coreResults = spec.sig.Params, spec.sig.Results
		sc.add(binary.SortCoreFunc, l.addHostFunc(spec))
		return nil
	}
	tv, err := sc.get(binary.SortType, cn.Type)
	if err != nil {
		return err
	}
	res, ok := tv.(*cabi.Resource)
	if !ok {
		return fmt.Errorf("type %d is not a resource type", cn.Type)
	}
	spec := hostFuncSpec{res: res, table: sc.table, name: "canon " + cn.Kind.String() + " " + res.Name}
	i32 := []api.ValueType{api.ValueTypeI32}
	switch cn.Kind {
	case binary.CanonResourceNew:
		spec.kind, spec.coreParams, spec.coreResults = hostResourceNew, i32, i32
	case binary.CanonResourceRep:
		spec.kind, spec.coreParams, spec.coreResults = hostResourceRep, i32, i32
	case binary.CanonResourceDrop:
		spec.kind, spec.coreParams = hostResourceDrop, i32
	}
	if cn.Kind != binary.CanonResourceDrop && l.c.guestRes[res] == nil {
		return fmt.Errorf("%s is not a resource this component defines", res.Name)
	}
	sc.add(binary.SortCoreFunc, l.addHostFunc(spec))
	return nil
}

// checkOpts refuses a function whose values need a memory or realloc the
// canonical options do not give.
func checkOpts(params, results []*cabi.Type, o canonOpts, lift bool) error {
	needMem, needRealloc := false, false
	sig := cabi.FlatFunc(params, results, cabi.Lower)
	if sig.ParamsSpilled || sig.ResultsSpilled {
		needMem = true
	}
	for _, t := range params {
		m, r := usesMemory(t)
		needMem = needMem || m
		needRealloc = needRealloc || (r && lift)
	}
	for _, t := range results {
		m, r := usesMemory(t)
		needMem = needMem || m
		needRealloc = needRealloc || (r && !lift)
	}
	if lift && sig.ParamsSpilled {
		needRealloc = true
	}
	switch {
	case needMem && o.memory < 0:
		return fmt.Errorf("its values need a memory and the canonical options give none")
	case needRealloc && o.realloc < 0:
		return fmt.Errorf("its values need a realloc function and the canonical options give none")
	}
	return nil
}

// usesMemory reports whether values of t live in linear memory (strings
// and lists), and so need a memory, and a realloc to be passed in.
func usesMemory(t *cabi.Type) (mem, realloc bool) {
	if t == nil {
		return false, false
	}
	switch t.Kind {
	case cabi.KindString, cabi.KindList:
		return true, true
	case cabi.KindOption:
		return usesMemory(t.Elem)
	case cabi.KindResult:
		m1, r1 := usesMemory(t.Ok)
		m2, r2 := usesMemory(t.Err)
		return m1 || m2, r1 || r2
	}
	var ts []*cabi.Type
	for _, f := range t.Fields {
		ts = append(ts, f.Type)
	}
	for _, c := range t.Cases {
		ts = append(ts, c.Type)
	}
	ts = append(ts, t.Elems...)
	for _, e := range ts {
		if m, r := usesMemory(e); m {
			return m, r
		}
	}
	return false, false
}

func (l *linker) options(o binary.CanonOptions, sc *scope) (canonOpts, error) {
	if o.Async || o.Callback != nil {
		return canonOpts{}, unsupported("the async canonical option")
	}
	out := canonOpts{memory: -1, realloc: -1, postReturn: -1}
	switch o.StringEncoding {
	case binary.UTF8:
		out.encoding = cabi.UTF8
	case binary.UTF16:
		out.encoding = cabi.UTF16
	case binary.Latin1UTF16:
		out.encoding = cabi.Latin1UTF16
	}
	if o.Memory != nil {
		v, err := sc.get(binary.SortCoreMemory, *o.Memory)
		if err != nil {
			return out, err
		}
		out.memory = l.memSlotOf(v.(coreRef))
	}
	for _, f := range []struct {
		idx  *uint32
		slot *int
	}{{o.Realloc, &out.realloc}, {o.PostReturn, &out.postReturn}} {
		if f.idx == nil {
			continue
		}
		v, err := sc.get(binary.SortCoreFunc, *f.idx)
		if err != nil {
			return out, err
		}
		*f.slot = l.funcSlotOf(v.(coreRef))
	}
	return out, nil
}

func (l *linker) addHostFunc(spec hostFuncSpec) coreRef {
	idx := len(l.c.hostFuncs)
	l.c.hostFuncs = append(l.c.hostFuncs, &spec)
	return coreRef{inst: hostInst, name: "f" + strconv.Itoa(idx)}
}

func (l *linker) funcSlotOf(ref coreRef) int {
	if s, ok := l.funcSlot[ref]; ok {
		return s
	}
	s := len(l.c.funcSlots)
	l.c.funcSlots = append(l.c.funcSlots, ref)
	l.funcSlot[ref] = s
	return s
}

func (l *linker) memSlotOf(ref coreRef) int {
	if s, ok := l.memSlot[ref]; ok {
		return s
	}
	s := len(l.c.memSlots)
	l.c.memSlots = append(l.c.memSlots, ref)
	l.memSlot[ref] = s
	return s
}

func paramTypes(ps []Param) []*cabi.Type {
	out := make([]*cabi.Type, len(ps))
	for i, p := range ps {
		out[i] = p.Type
	}
	return out
}

// importItem binds an import: to the host for the outermost component, to
// the instantiation's argument for a nested one.
func (l *linker) importItem(imp *binary.Import, sc *scope) (any, error) {
	if sc.args != nil {
		it, ok := sc.args[imp.Name]
		if !ok {
			return nil, fmt.Errorf("the instantiation gives no argument for it")
		}
		if it.sort != imp.Type.Sort {
			return nil, fmt.Errorf("given a %s for a %s", it.sort, imp.Type.Sort)
		}
		return it.v, nil
	}
	switch imp.Type.Sort {
	case binary.SortInstance:
		tv, err := sc.get(binary.SortType, imp.Type.Index)
		if err != nil {
			return nil, err
		}
		it, ok := tv.(*instTypeVal)
		if !ok {
			return nil, fmt.Errorf("type %d is not an instance type", imp.Type.Index)
		}
		return l.bindHostInstance(imp.Name, it)
	case binary.SortFunc:
		tv, err := sc.get(binary.SortType, imp.Type.Index)
		if err != nil {
			return nil, err
		}
		ft, ok := tv.(*funcTypeVal)
		if !ok {
			return nil, fmt.Errorf("type %d is not a function type", imp.Type.Index)
		}
		info := ImportInfo{Name: imp.Name, Kind: "func", Provided: true}
		var f *HostFunc
		if l.host != nil {
			f = l.host.funcs[imp.Name]
		}
		if f == nil {
			info.Provided = false
			l.missing = append(l.missing, imp.Name)
		} else if err := matchFunc(ft, f); err != nil {
			return nil, err
		}
		l.imports = append(l.imports, info)
		if f == nil {
			f = trapFunc(imp.Name, ft)
		}
		return &hostFuncVal{name: imp.Name, f: f, typ: ft}, nil
	}
	return nil, fmt.Errorf("importing a %s from the host is not supported (only instances and functions)", imp.Type.Sort)
}

// bindHostInstance binds an imported instance to the host's interface:
// each resource type and function the instance type declares must be
// provided, functions with the very types declared.
func (l *linker) bindHostInstance(name string, it *instTypeVal) (*instVal, error) {
	hi := l.host.lookup(name)
	info := ImportInfo{Name: name, Kind: "instance", Provided: hi != nil}
	if hi == nil {
		l.missing = append(l.missing, name)
	}
	ts := &scope{parent: it.sc, what: "instance type of " + name}
	out := &instVal{name: name, exports: map[string]item{}}
	for _, d := range it.ast.Decls {
		switch d := d.(type) {
		case *binary.CoreTypeDecl:
			ts.add(binary.SortCoreType, nil)
		case *binary.TypeDecl:
			v, err := l.defType(d.Type, ts)
			if err != nil {
				return nil, err
			}
			ts.add(binary.SortType, v)
		case *binary.Alias:
			v, err := l.alias(d, ts)
			if err != nil {
				return nil, err
			}
			ts.add(d.Target, v)
		case *binary.ExportDecl:
			v, err := l.bindHostExport(name, d, ts, hi, &info)
			if err != nil {
				return nil, err
			}
			ts.add(d.Type.Sort, v)
			out.exports[d.Name] = item{sort: d.Type.Sort, v: v}
		default:
			return nil, fmt.Errorf("unexpected declaration %T in an instance type", d)
		}
	}
	l.imports = append(l.imports, info)
	return out, nil
}

func (l *linker) bindHostExport(iface string, d *binary.ExportDecl, ts *scope, hi *HostInstance, info *ImportInfo) (any, error) {
	switch d.Type.Sort {
	case binary.SortType:
		if !d.Type.SubResource {
			return ts.get(binary.SortType, d.Type.Index)
		}
		info.Resources = append(info.Resources, d.Name)
		if hi != nil {
			if hr := hi.Resources[d.Name]; hr != nil {
				l.c.hostDrops[hr.Type] = hr.Drop
				return hr.Type, nil
			}
			l.missing = append(l.missing, iface+"#"+d.Name)
		}
		// Unprovided: a resource of its own, so linking can go on and
		// report everything missing at once.
		return &cabi.Resource{Name: d.Name}, nil
	case binary.SortFunc:
		tv, err := ts.get(binary.SortType, d.Type.Index)
		if err != nil {
			return nil, err
		}
		ft, ok := tv.(*funcTypeVal)
		if !ok {
			return nil, fmt.Errorf("%s#%s: type %d is not a function type", iface, d.Name, d.Type.Index)
		}
		info.Funcs = append(info.Funcs, d.Name)
		var f *HostFunc
		if hi != nil {
			if f = hi.Funcs[d.Name]; f == nil {
				l.missing = append(l.missing, iface+"#"+d.Name)
			} else if err := matchFunc(ft, f); err != nil {
				return nil, fmt.Errorf("%s#%s: %w", iface, d.Name, err)
			}
		}
		if f == nil {
			f = trapFunc(iface+"#"+d.Name, ft)
		}
		return &hostFuncVal{name: iface + "#" + d.Name, f: f, typ: ft}, nil
	}
	return nil, fmt.Errorf("%s exports a %s %q, which a host interface cannot provide", iface, d.Type.Sort, d.Name)
}

// matchFunc checks the type a component declares for an imported function
// against the type the host implements.
func matchFunc(want *funcTypeVal, f *HostFunc) error {
	if len(want.params) != len(f.Params) || len(want.results) != len(f.Results) {
		return fmt.Errorf("declared as %s; the host implements %s", funcString(want.params, want.results), funcString(f.Params, f.Results))
	}
	for i := range want.params {
		if !sameType(want.params[i].Type, f.Params[i].Type) {
			return fmt.Errorf("declared as %s; the host implements %s", funcString(want.params, want.results), funcString(f.Params, f.Results))
		}
	}
	for i := range want.results {
		if !sameType(want.results[i], f.Results[i]) {
			return fmt.Errorf("declared as %s; the host implements %s", funcString(want.params, want.results), funcString(f.Params, f.Results))
		}
	}
	return nil
}

func funcString(params []Param, results []*cabi.Type) string {
	var b strings.Builder
	b.WriteString("func(")
	for i, p := range params {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", p.Name, p.Type)
	}
	b.WriteString(")")
	if len(results) == 1 {
		fmt.Fprintf(&b, " -> %s", results[0])
	}
	return b.String()
}

// sameType compares two value types structurally, resource types by
// identity, names of types aside.
func sameType(a, b *cabi.Type) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case cabi.KindList, cabi.KindOption:
		return sameType(a.Elem, b.Elem)
	case cabi.KindRecord:
		if len(a.Fields) != len(b.Fields) {
			return false
		}
		for i := range a.Fields {
			if a.Fields[i].Name != b.Fields[i].Name || !sameType(a.Fields[i].Type, b.Fields[i].Type) {
				return false
			}
		}
	case cabi.KindTuple:
		if len(a.Elems) != len(b.Elems) {
			return false
		}
		for i := range a.Elems {
			if !sameType(a.Elems[i], b.Elems[i]) {
				return false
			}
		}
	case cabi.KindVariant:
		if len(a.Cases) != len(b.Cases) {
			return false
		}
		for i := range a.Cases {
			if a.Cases[i].Name != b.Cases[i].Name || !sameType(a.Cases[i].Type, b.Cases[i].Type) {
				return false
			}
		}
	case cabi.KindEnum, cabi.KindFlags:
		if len(a.Labels) != len(b.Labels) {
			return false
		}
		for i := range a.Labels {
			if a.Labels[i] != b.Labels[i] {
				return false
			}
		}
	case cabi.KindResult:
		return sameType(a.Ok, b.Ok) && sameType(a.Err, b.Err)
	case cabi.KindOwn, cabi.KindBorrow:
		return a.Resource == b.Resource
	}
	return true
}

// defType resolves a type definition.
func (l *linker) defType(t binary.Type, sc *scope) (any, error) {
	switch t := t.(type) {
	case *binary.FuncType:
		if t.Async {
			return nil, unsupported("an async function type")
		}
		ft := &funcTypeVal{}
		for _, p := range t.Params {
			pt, err := l.valType(p.Type, sc)
			if err != nil {
				return nil, fmt.Errorf("parameter %q: %w", p.Name, err)
			}
			ft.params = append(ft.params, Param{Name: p.Name, Type: pt})
		}
		if t.Result != nil {
			rt, err := l.valType(*t.Result, sc)
			if err != nil {
				return nil, fmt.Errorf("result: %w", err)
			}
			ft.results = []*cabi.Type{rt}
		}
		return ft, nil
	case *binary.InstanceType:
		return &instTypeVal{ast: t, sc: sc}, nil
	case *binary.ComponentType:
		return &compTypeVal{ast: t}, nil
	case *binary.ResourceType:
		r := &cabi.Resource{Name: "resource " + strconv.Itoa(len(sc.spaces[binary.SortType]))}
		g := &guestResource{dtor: -1}
		if t.Dtor != nil {
			v, err := sc.get(binary.SortCoreFunc, *t.Dtor)
			if err != nil {
				return nil, fmt.Errorf("resource destructor: %w", err)
			}
			g.dtor = l.funcSlotOf(v.(coreRef))
		}
		l.c.guestRes[r] = g
		return r, nil
	}
	vt, err := l.defValType(t, sc)
	if err != nil {
		return nil, err
	}
	if err := vt.Check(); err != nil {
		return nil, err
	}
	return vt, nil
}

// defValType resolves a value type definition.
func (l *linker) defValType(t binary.Type, sc *scope) (*cabi.Type, error) {
	vt := func(v binary.ValType) (*cabi.Type, error) { return l.valType(v, sc) }
	opt := func(v *binary.ValType) (*cabi.Type, error) {
		if v == nil {
			return nil, nil
		}
		return l.valType(*v, sc)
	}
	switch t := t.(type) {
	case binary.PrimType:
		return primType(t)
	case *binary.RecordType:
		out := &cabi.Type{Kind: cabi.KindRecord}
		for _, f := range t.Fields {
			ft, err := vt(f.Type)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			out.Fields = append(out.Fields, cabi.Field{Name: f.Name, Type: ft})
		}
		return out, nil
	case *binary.VariantType:
		out := &cabi.Type{Kind: cabi.KindVariant}
		for _, c := range t.Cases {
			ct, err := opt(c.Type)
			if err != nil {
				return nil, fmt.Errorf("case %q: %w", c.Name, err)
			}
			out.Cases = append(out.Cases, cabi.Case{Name: c.Name, Type: ct})
		}
		return out, nil
	case *binary.ListType:
		if t.Len != 0 {
			return nil, unsupported("a fixed-length list")
		}
		e, err := vt(t.Elem)
		if err != nil {
			return nil, err
		}
		return cabi.ListOf(e), nil
	case *binary.TupleType:
		out := &cabi.Type{Kind: cabi.KindTuple}
		for _, e := range t.Types {
			et, err := vt(e)
			if err != nil {
				return nil, err
			}
			out.Elems = append(out.Elems, et)
		}
		return out, nil
	case *binary.FlagsType:
		return &cabi.Type{Kind: cabi.KindFlags, Labels: t.Names}, nil
	case *binary.EnumType:
		return &cabi.Type{Kind: cabi.KindEnum, Labels: t.Names}, nil
	case *binary.OptionType:
		e, err := vt(t.Elem)
		if err != nil {
			return nil, err
		}
		return cabi.OptionOf(e), nil
	case *binary.ResultType:
		ok, err := opt(t.OK)
		if err != nil {
			return nil, err
		}
		er, err := opt(t.Err)
		if err != nil {
			return nil, err
		}
		return cabi.ResultOf(ok, er), nil
	case *binary.OwnType, *binary.BorrowType:
		kind, idx := cabi.KindOwn, uint32(0)
		if o, ok := t.(*binary.OwnType); ok {
			idx = o.Resource
		} else {
			kind, idx = cabi.KindBorrow, t.(*binary.BorrowType).Resource
		}
		v, err := sc.get(binary.SortType, idx)
		if err != nil {
			return nil, err
		}
		r, ok := v.(*cabi.Resource)
		if !ok {
			return nil, fmt.Errorf("%s of type %d, which is not a resource type", kind, idx)
		}
		return &cabi.Type{Kind: kind, Resource: r}, nil
	case *binary.StreamType:
		return nil, unsupported("the stream type")
	case *binary.FutureType:
		return nil, unsupported("the future type")
	case *binary.MapType:
		return nil, unsupported("the map type")
	}
	return nil, fmt.Errorf("unknown type %T", t)
}

// valType resolves a value type use: a primitive, or an index that must
// name a value type.
func (l *linker) valType(v binary.ValType, sc *scope) (*cabi.Type, error) {
	if v.Prim != 0 {
		return primType(v.Prim)
	}
	tv, err := sc.get(binary.SortType, v.Index)
	if err != nil {
		return nil, err
	}
	t, ok := tv.(*cabi.Type)
	if !ok {
		return nil, fmt.Errorf("type %d is not a value type", v.Index)
	}
	return t, nil
}

func primType(p binary.PrimType) (*cabi.Type, error) {
	switch p {
	case binary.PrimBool:
		return cabi.BoolType, nil
	case binary.PrimS8:
		return cabi.S8Type, nil
	case binary.PrimU8:
		return cabi.U8Type, nil
	case binary.PrimS16:
		return cabi.S16Type, nil
	case binary.PrimU16:
		return cabi.U16Type, nil
	case binary.PrimS32:
		return cabi.S32Type, nil
	case binary.PrimU32:
		return cabi.U32Type, nil
	case binary.PrimS64:
		return cabi.S64Type, nil
	case binary.PrimU64:
		return cabi.U64Type, nil
	case binary.PrimF32:
		return cabi.F32Type, nil
	case binary.PrimF64:
		return cabi.F64Type, nil
	case binary.PrimChar:
		return cabi.CharType, nil
	case binary.PrimString:
		return cabi.StringType, nil
	case binary.PrimErrorContext:
		return nil, unsupported("the error-context type")
	}
	return nil, fmt.Errorf("unknown primitive type %#x", byte(p))
}

// missingError lists what a component imports that the host lacks.
func missingError(missing []string) error {
	sort.Strings(missing)
	return fmt.Errorf("the component imports what this host does not provide: %s", strings.Join(missing, ", "))
}

// trapFunc stands for an import nothing provides: calling it traps.
func trapFunc(name string, ft *funcTypeVal) *HostFunc {
	return &HostFunc{Params: ft.params, Results: ft.results, Call: func(context.Context, []any) ([]any, error) {
		return nil, fmt.Errorf("%s is not provided by this host", name)
	}}
}
