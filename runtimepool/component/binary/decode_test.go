package binary

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fixture decodes testdata/name.wasm.
func fixture(t testing.TB, name string) *Component {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Decode(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// sectionsOf returns c's sections of type T.
func sectionsOf[T Section](c *Component) []T {
	var out []T
	for _, s := range c.Sections {
		if s, ok := s.(T); ok {
			out = append(out, s)
		}
	}
	return out
}

// typesOf returns every type of c's type sections, in order.
func typesOf(c *Component) []Type {
	var out []Type
	for _, s := range sectionsOf[*TypeSection](c) {
		out = append(out, s.Types...)
	}
	return out
}

// canonsOf returns every canonical definition of c, in order.
func canonsOf(c *Component) []Canon {
	var out []Canon
	for _, s := range sectionsOf[*CanonSection](c) {
		out = append(out, s.Canons...)
	}
	return out
}

func u32p(v uint32) *uint32 { return &v }

func prim(p PrimType) ValType { return ValType{Prim: p} }

func idx(i uint32) ValType { return ValType{Index: i} }

func vp(v ValType) *ValType { return &v }

func TestDecodeValueTypes(t *testing.T) {
	t.Parallel()
	c := fixture(t, "valtypes")
	types := typesOf(c)
	if len(types) != 30 {
		t.Fatalf("%d types, want 30", len(types))
	}
	prims := []PrimType{PrimBool, PrimS8, PrimU8, PrimS16, PrimU16, PrimS32, PrimU32, PrimS64, PrimU64, PrimF32, PrimF64, PrimChar, PrimString}
	for i, p := range prims {
		if types[i] != p {
			t.Errorf("type %d = %v, want %v", i, types[i], p)
		}
	}
	want := []Type{
		&RecordType{Fields: []Field{{"a", prim(PrimU32)}, {"b", prim(PrimString)}, {"c", idx(1)}}},
		&VariantType{Cases: []Case{{"none", nil}, {"some", vp(prim(PrimU64))}, {"named", vp(idx(13))}}},
		&ListType{Elem: prim(PrimU8)},
		&ListType{Elem: prim(PrimU32), Len: 4},
		&TupleType{Types: []ValType{prim(PrimU8), prim(PrimString)}},
		&FlagsType{Names: []string{"read", "write", "exec"}},
		&EnumType{Names: []string{"red", "green", "blue"}},
		&OptionType{Elem: prim(PrimString)},
		&ResultType{OK: vp(prim(PrimU32)), Err: vp(prim(PrimString))},
		&ResultType{OK: vp(prim(PrimU32))},
		&ResultType{Err: vp(idx(19))},
		&ResultType{},
		&ResourceType{Rep: CoreValType{Code: CoreI32}},
		&OwnType{Resource: 25},
		&BorrowType{Resource: 25},
		&FuncType{Params: []Field{{"x", prim(PrimU32)}, {"y", idx(13)}}, Result: vp(idx(20))},
		&FuncType{Params: []Field{}},
	}
	for i, w := range want {
		if got := types[13+i]; !reflect.DeepEqual(got, w) {
			t.Errorf("type %d = %#v, want %#v", 13+i, got, w)
		}
	}
	if got := types[28].(*FuncType).String(); got != `(func (param "x" u32) (param "y" (type 13)) (result (type 20)))` {
		t.Errorf("func type %s", got)
	}
	if names, ok := c.Custom("component-name"); !ok || len(names) == 0 {
		t.Error("no component-name custom section")
	}
}

func TestDecodeSections(t *testing.T) {
	t.Parallel()
	c := fixture(t, "sections")
	var ids []SectionID
	for _, s := range c.Sections {
		ids = append(ids, s.ID())
	}
	wantIDs := []SectionID{SectionCustom, SectionType, SectionImport, SectionType, SectionImport, SectionAlias,
		SectionCoreType, SectionCoreModule, SectionCoreInstance, SectionAlias, SectionCanon, SectionCoreInstance,
		SectionCoreModule, SectionCoreInstance, SectionType, SectionAlias, SectionCanon, SectionComponent,
		SectionInstance, SectionExport, SectionCustom}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Fatalf("sections %v\nwant %v", ids, wantIDs)
	}
	custom := c.Sections[0].(*CustomSection)
	if custom.Name != "producers-note" || string(custom.Data) != "made by hand" || custom.Offset() != 8 {
		t.Errorf("custom section %q %q at %d", custom.Name, custom.Data, custom.Offset())
	}

	mods := sectionsOf[*CoreModuleSection](c)
	for _, m := range mods {
		if string(m.Module[:8]) != "\x00asm\x01\x00\x00\x00" {
			t.Errorf("core module at %#x starts % x", m.Offset(), m.Module[:8])
		}
	}

	imports := c.Imports()
	if len(imports) != 2 || imports[0].Name != "wasi:logging/logging@0.1.0-draft" || imports[0].Type.Sort != SortInstance ||
		imports[1].Name != "greeting" || imports[1].Type.Sort != SortFunc || imports[1].Type.Index != 2 {
		t.Errorf("imports %+v", imports)
	}
	if got := imports[0].Type.String(); got != "(instance (type 1))" {
		t.Errorf("import type %s", got)
	}
	exports := c.Exports()
	if len(exports) != 2 || exports[0].Name != "wasi:example/run@1.2.3" || exports[0].Ref != (SortIndex{SortFunc, 2}) ||
		exports[0].Type == nil || *exports[0].Type != (ExternType{Sort: SortFunc, Index: 3}) ||
		exports[1].Name != "bundle" || exports[1].Ref != (SortIndex{SortInstance, 2}) || exports[1].Type != nil {
		t.Errorf("exports %+v", exports)
	}
	if got := exports[0].String(); got != `(export "wasi:example/run@1.2.3" (func 2) (func (type 3)))` {
		t.Errorf("export %s", got)
	}

	canons := canonsOf(c)
	lower := Canon{Kind: CanonLower, Func: 1, Options: CanonOptions{Memory: u32p(0)}}
	lift := Canon{Kind: CanonLift, Func: 2, Type: 3, Options: CanonOptions{
		StringEncoding: UTF16, Memory: u32p(0), Realloc: u32p(3), PostReturn: u32p(4)}}
	if !reflect.DeepEqual(canons, []Canon{lower, lift}) {
		t.Errorf("canons %+v", canons)
	}

	coreInsts := sectionsOf[*CoreInstanceSection](c)
	if got := coreInsts[1].Instances[0]; !got.FromExports || !reflect.DeepEqual(got.Exports, []InlineExport{{Name: "log", Ref: SortIndex{SortCoreFunc, 1}}}) {
		t.Errorf("core instance of exports %+v", got)
	}
	if got := coreInsts[2].Instances[0]; got.FromExports || got.Module != 1 || !reflect.DeepEqual(got.Args, []InstantiateArg{{"host", SortIndex{SortCoreInstance, 1}}}) {
		t.Errorf("core instantiation %+v", got)
	}
	aliases := sectionsOf[*AliasSection](c)
	if got := aliases[0].Aliases[0]; got != (Alias{Target: SortFunc, Kind: AliasExport, Instance: 0, Name: "log"}) {
		t.Errorf("export alias %+v", got)
	}
	if got := aliases[1].Aliases[0]; got != (Alias{Target: SortCoreMemory, Kind: AliasCoreExport, Instance: 0, Name: "memory"}) {
		t.Errorf("core export alias %+v", got)
	}

	inner := sectionsOf[*ComponentSection](c)[0].Component
	if inner.Offset <= 8 || len(inner.Sections) != 4 || inner.Sections[3].(*CustomSection).Name != "component-name" {
		t.Fatalf("nested component at %d with %d sections", inner.Offset, len(inner.Sections))
	}
	if got := inner.Sections[1].(*AliasSection).Aliases[0]; got != (Alias{Target: SortType, Kind: AliasOuter, Outer: 1, Index: 3}) {
		t.Errorf("outer alias %+v", got)
	}
	insts := sectionsOf[*InstanceSection](c)[0].Instances
	if insts[0].FromExports || insts[0].Component != 0 || !reflect.DeepEqual(insts[0].Args, []InstantiateArg{{"f", SortIndex{SortFunc, 2}}}) {
		t.Errorf("instantiation %+v", insts[0])
	}
	if !insts[1].FromExports || len(insts[1].Exports) != 2 || insts[1].Exports[1].Ref != (SortIndex{SortInstance, 1}) {
		t.Errorf("instance of exports %+v", insts[1])
	}

	ct := sectionsOf[*CoreTypeSection](c)[0].Types
	mt, ok := ct[1].(*CoreModuleType)
	if !ok || len(mt.Decls) != 2 {
		t.Fatalf("core module type %#v", ct[1])
	}
	if im := mt.Decls[0].(*CoreImport); im.Module != "host" || im.Name != "log" || im.Type.Sort != SortCoreFunc {
		t.Errorf("module type import %+v", im)
	}
	if ex := mt.Decls[1].(*CoreExportDecl); ex.Name != "memory" || ex.Type.Sort != SortCoreMemory || ex.Type.Limits.Min != 1 {
		t.Errorf("module type export %+v", ex)
	}
}

func TestIndexSpaces(t *testing.T) {
	t.Parallel()
	c := fixture(t, "sections")
	spaces := c.IndexSpaces()
	want := [NumSorts]int{
		SortCoreFunc: 5, SortCoreMemory: 1, SortCoreType: 2, SortCoreModule: 2, SortCoreInstance: 3,
		SortFunc: 4, SortType: 4, SortComponent: 1, SortInstance: 4,
	}
	for s := range NumSorts {
		if len(spaces[s]) != want[s] {
			t.Errorf("%s: %d definitions, want %d", s, len(spaces[s]), want[s])
		}
		for i, d := range spaces[s] {
			if d.Sort != s || d.Index != uint32(i) {
				t.Errorf("%s %d: def says %s %d", s, i, d.Sort, d.Index)
			}
		}
	}
	// func 2 is the lift; the export adds func 3, an alias of it.
	if canon, ok := spaces[SortFunc][2].Item.(*Canon); !ok || canon.Kind != CanonLift {
		t.Errorf("func 2 is %#v", spaces[SortFunc][2].Item)
	}
	if e, ok := spaces[SortFunc][3].Item.(*Export); !ok || e.Name != "wasi:example/run@1.2.3" {
		t.Errorf("func 3 is %#v", spaces[SortFunc][3].Item)
	}
	if im, ok := spaces[SortInstance][0].Item.(*Import); !ok || im.Name != "wasi:logging/logging@0.1.0-draft" {
		t.Errorf("instance 0 is %#v", spaces[SortInstance][0].Item)
	}
	if _, ok := spaces[SortCoreModule][1].Section.(*CoreModuleSection); !ok {
		t.Errorf("core module 1 from %T", spaces[SortCoreModule][1].Section)
	}
	if st, ok := spaces[SortCoreType][0].Item.(*CoreSubType); !ok || st.Kind != CoreFunc || len(st.Params) != 2 {
		t.Errorf("core type 0 is %#v", spaces[SortCoreType][0].Item)
	}
}

func TestDecodeResources(t *testing.T) {
	t.Parallel()
	c := fixture(t, "resources")
	types := typesOf(c)
	it := types[0].(*InstanceType)
	var kinds []string
	for _, d := range it.Decls {
		switch d := d.(type) {
		case *ExportDecl:
			kinds = append(kinds, "export "+d.Name+" "+d.Type.String())
		case *TypeDecl:
			kinds = append(kinds, "type "+d.Type.Kind().String())
		}
	}
	want := []string{
		"export output-stream (type (sub resource))",
		"type own", "type func", "export [constructor]output-stream (func (type 2))",
		"type borrow", "type list", "type func", "export [method]output-stream.write (func (type 5))",
		"type func", "export [static]output-stream.count (func (type 6))",
	}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("instance type declarations\n%q\nwant\n%q", kinds, want)
	}
	for _, d := range it.Decls {
		if td, ok := d.(*TypeDecl); ok && td.Type.Kind() == KindBorrow && td.Type.(*BorrowType).Resource != 0 {
			t.Errorf("borrow of %d", td.Type.(*BorrowType).Resource)
		}
	}
	var res []*ResourceType
	for _, t := range types {
		if r, ok := t.(*ResourceType); ok {
			res = append(res, r)
		}
	}
	if len(res) != 2 || res[0].Dtor == nil || *res[0].Dtor != 0 || res[1].Dtor != nil || res[0].Rep.String() != "i32" {
		t.Errorf("resources %+v", res)
	}
	var got []string
	var canonTypes []uint32
	for _, cn := range canonsOf(c) {
		got = append(got, cn.Kind.String())
		canonTypes = append(canonTypes, cn.Type)
	}
	if strings.Join(got, " ") != "resource.new resource.drop resource.rep resource.drop lift" {
		t.Errorf("canons %v", got)
	}
	// The counter is type 2, the alias of the imported output-stream 1,
	// the lifted function's type 5.
	if !reflect.DeepEqual(canonTypes, []uint32{2, 2, 2, 1, 5}) {
		t.Errorf("canon types %v", canonTypes)
	}
	spaces := c.IndexSpaces()
	if n := len(spaces[SortType]); n != 7 { // instance type, alias, 2 resources, own, func, export
		t.Errorf("%d types, want 7", n)
	}
}

func TestDecodeNested(t *testing.T) {
	t.Parallel()
	c := fixture(t, "nested")
	types := typesOf(c)
	ctype := types[1].(*ComponentType)
	var order []string
	for _, d := range ctype.Decls {
		order = append(order, d.Sort().String())
	}
	if strings.Join(order, ",") != "core type,core type,type,type,func,core module,func" {
		t.Errorf("component type declares %v", order)
	}
	mt := ctype.Decls[1].(*CoreTypeDecl).Type.(*CoreModuleType)
	var imports []string
	for _, d := range mt.Decls {
		if im, ok := d.(*CoreImport); ok {
			imports = append(imports, im.Name+":"+im.Type.Sort.String())
		}
	}
	if strings.Join(imports, " ") != "f:core func mem:core memory tbl:core table g:core global" {
		t.Errorf("module type imports %v", imports)
	}
	mem := mt.Decls[2].(*CoreImport).Type
	if mem.Limits != (Limits{Min: 1, Max: 2, HasMax: true}) {
		t.Errorf("memory limits %+v", mem.Limits)
	}
	tbl := mt.Decls[3].(*CoreImport).Type
	if tbl.Type.String() != "(ref null func)" || tbl.Limits.Min != 1 || tbl.Limits.HasMax {
		t.Errorf("table %+v", tbl)
	}
	if g := mt.Decls[4].(*CoreImport).Type; g.Type.Code != CoreI64 || !g.Mutable {
		t.Errorf("global %+v", g)
	}
	if a := mt.Decls[5].(*Alias); *a != (Alias{Target: SortCoreType, Kind: AliasOuter, Outer: 1, Index: 0}) {
		t.Errorf("module type alias %+v", a)
	}
	if a := ctype.Decls[2].(*Alias); *a != (Alias{Target: SortType, Kind: AliasOuter, Outer: 1, Index: 0}) {
		t.Errorf("component type alias %+v", a)
	}
	it := types[2].(*InstanceType)
	if e := it.Decls[1].(*ExportDecl); e.Type != (ExternType{Sort: SortType, Index: 0}) || e.Type.String() != "(type (eq 0))" {
		t.Errorf("instance type export %+v", e)
	}

	middle := sectionsOf[*ComponentSection](c)[0].Component
	innermost := sectionsOf[*ComponentSection](middle)[0].Component
	aliases := sectionsOf[*AliasSection](innermost)[0].Aliases
	want := []Alias{{Target: SortType, Kind: AliasOuter, Outer: 2, Index: 0}, {Target: SortType, Kind: AliasOuter, Outer: 1, Index: 0}}
	if !reflect.DeepEqual(aliases, want) {
		t.Errorf("innermost aliases %+v", aliases)
	}
	if !(c.Offset < middle.Offset && middle.Offset < innermost.Offset) {
		t.Errorf("offsets %d %d %d", c.Offset, middle.Offset, innermost.Offset)
	}
	if ex := innermost.Exports(); len(ex) != 1 || ex[0].Name != "use-type" || ex[0].Ref.Sort != SortType {
		t.Errorf("innermost exports %+v", ex)
	}
}

func TestDecodeAsync(t *testing.T) {
	t.Parallel()
	c := fixture(t, "async")
	want := []Type{
		&StreamType{Elem: vp(prim(PrimU8))}, &StreamType{}, &FutureType{Elem: vp(prim(PrimString))}, &FutureType{},
		PrimErrorContext, &FuncType{Async: true, Params: []Field{{"x", prim(PrimU32)}}, Result: vp(prim(PrimString))},
		&MapType{Key: prim(PrimString), Value: prim(PrimU32)},
	}
	if got := typesOf(c); !reflect.DeepEqual(got, want) {
		t.Errorf("types %#v", got)
	}
	var names []string
	canons := canonsOf(c)
	for _, cn := range canons {
		names = append(names, cn.Kind.String())
		if cn.Kind.MVP() != (cn.Kind == CanonLift) {
			t.Errorf("%s: MVP() = %v", cn.Kind, cn.Kind.MVP())
		}
	}
	wantNames := "lift backpressure.inc backpressure.dec task.return task.cancel context.get context.set " +
		"subtask.cancel subtask.drop stream.new stream.read stream.write stream.cancel-read stream.cancel-write " +
		"stream.drop-readable stream.drop-writable future.new future.read future.write future.cancel-read " +
		"future.cancel-write future.drop-readable future.drop-writable error-context.new " +
		"error-context.debug-message error-context.drop waitable-set.new waitable-set.wait waitable-set.poll " +
		"waitable-set.drop waitable.join thread.yield"
	if got := strings.Join(names, " "); got != wantNames {
		t.Fatalf("canons\n%s\nwant\n%s", got, wantNames)
	}
	byName := map[string]Canon{}
	for _, cn := range canons {
		byName[cn.Kind.String()] = cn
	}
	if o := byName["lift"].Options; !o.Async || o.Callback == nil || *o.Callback != 1 {
		t.Errorf("async lift options %+v", o)
	}
	if tr := byName["task.return"]; tr.Result == nil || *tr.Result != prim(PrimString) || tr.Options.Memory == nil {
		t.Errorf("task.return %+v", tr)
	}
	if cg := byName["context.get"]; cg.ValType.Code != CoreI32 || cg.Index != 0 || cg.Sort() != SortCoreFunc {
		t.Errorf("context.get %+v", cg)
	}
	if !byName["subtask.cancel"].Async || !byName["stream.cancel-read"].Async || byName["stream.cancel-write"].Async {
		t.Error("async? immediates misread")
	}
	if !byName["stream.write"].Options.Async || byName["stream.read"].Options.Async || byName["stream.read"].Type != 0 {
		t.Error("stream options misread")
	}
	if byName["future.read"].Options.StringEncoding != Latin1UTF16 || byName["future.read"].Type != 2 {
		t.Errorf("future.read %+v", byName["future.read"])
	}
}

func TestDecodeNames(t *testing.T) {
	t.Parallel()
	c := fixture(t, "names")
	var got []string
	for _, im := range c.Imports() {
		got = append(got, im.Name+" "+im.Type.Sort.String())
	}
	want := []string{"wasi:http/types@0.2.0 instance", "wasi:cli/environment@0.2.10 instance", "wasi:keyvalue/store instance",
		"store instance", "wasi:io/poll@0.2 instance", "config func"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("imports %q", got)
	}
	ims := c.Imports()
	if ims[3].Attributes != (Attributes{Implements: "wasi:keyvalue/store@0.2.0"}) {
		t.Errorf("implements %+v", ims[3].Attributes)
	}
	if ims[4].Attributes != (Attributes{VersionSuffix: ".6"}) {
		t.Errorf("versionsuffix %+v", ims[4].Attributes)
	}
	if ex := c.Exports(); len(ex) != 2 || ex[0].Name != "wasi:http/incoming-handler@0.2.0" || ex[0].Sort() != SortInstance || ex[1].Sort() != SortFunc {
		t.Errorf("exports %+v", ex)
	}
	if got := ims[3].String(); got != `(import "store" (implements "wasi:keyvalue/store@0.2.0") (instance (type 3)))` {
		t.Errorf("import %s", got)
	}
	if got := ims[4].String(); got != `(import "wasi:io/poll@0.2" (versionsuffix ".6") (instance (type 4)))` {
		t.Errorf("import %s", got)
	}
	if got := c.Exports()[0].String(); got != `(export "wasi:http/incoming-handler@0.2.0" (instance 0))` {
		t.Errorf("export %s", got)
	}
}

func TestDecodeCoreTypes(t *testing.T) {
	t.Parallel()
	c := fixture(t, "coretypes")
	types := sectionsOf[*CoreTypeSection](c)[0].Types
	i32, i8, i16 := CoreValType{Code: CoreI32}, CoreValType{Code: CoreI8}, CoreValType{Code: CoreI16}
	want := []CoreType{
		&CoreRecType{Types: []CoreSubType{{Final: true, Kind: CoreFunc,
			Params:  []CoreValType{i32, {Code: CoreI64}, {Code: CoreF32}, {Code: CoreF64}, {Code: CoreV128}},
			Results: []CoreValType{i32}}}},
		&CoreRecType{Types: []CoreSubType{{Final: true, Kind: CoreFunc,
			Params:  []CoreValType{{Code: CoreRefNull, Heap: HeapType{Abstract: 0x70}}, {Code: CoreRefNull, Heap: HeapType{Abstract: 0x6f}}},
			Results: []CoreValType{{Code: CoreRefNull, Heap: HeapType{Index: 0}}}}}},
		&CoreRecType{Group: true, Types: []CoreSubType{
			{Supers: []uint32{}, Kind: CoreStruct, Fields: []CoreFieldType{{i32, true}, {i8, false}}},
			{Final: true, Kind: CoreArray, Fields: []CoreFieldType{{i8, true}}},
			{Final: true, Supers: []uint32{2}, Kind: CoreStruct, Fields: []CoreFieldType{{i32, true}, {i8, false}, {i16, false}}},
		}},
		&CoreRecType{Types: []CoreSubType{{Supers: []uint32{}, Kind: CoreFunc, Params: []CoreValType{}, Results: []CoreValType{}}}},
	}
	for i, w := range want {
		if !reflect.DeepEqual(types[i], w) {
			t.Errorf("core type %d = %#v\nwant %#v", i, types[i], w)
		}
	}
	mt := types[4].(*CoreModuleType)
	shared := mt.Decls[3].(*CoreImport).Type.Limits
	if shared != (Limits{Min: 1, Max: 2, HasMax: true, Shared: true}) {
		t.Errorf("shared memory %+v", shared)
	}
	if l := mt.Decls[2].(*CoreImport).Type.Limits; l.Max != 65536 {
		t.Errorf("memory %+v", l)
	}
	if tb := mt.Decls[4].(*CoreImport).Type; tb.Type.String() != "(ref null extern)" || tb.Limits.Min != 10 || tb.Limits.Max != 20 {
		t.Errorf("table %+v", tb)
	}
	if g := mt.Decls[6].(*CoreImport).Type; g.Type.Code != CoreF64 || g.Mutable {
		t.Errorf("global %+v", g)
	}
	open := &CoreRecType{Types: []CoreSubType{{Supers: []uint32{}, Kind: CoreFunc, Params: []CoreValType{{Code: CoreI64}}, Results: []CoreValType{}}}}
	if got := mt.Decls[9].(*CoreTypeDecl).Type; !reflect.DeepEqual(got, open) {
		t.Errorf("sub type in a module type %#v", got)
	}
	if got := len(c.IndexSpaces()[SortCoreType]); got != 7 {
		t.Errorf("%d core types, want 7 (a rec group of 3 counts 3)", got)
	}
}

func TestDecodeValues(t *testing.T) {
	t.Parallel()
	c := fixture(t, "values")
	start := sectionsOf[*StartSection](c)
	if len(start) != 1 || !reflect.DeepEqual(start[0].Start, Start{Func: 0, Args: []uint32{0, 1}, Results: 1}) {
		t.Fatalf("start %+v", start)
	}
	ims := c.Imports()
	if ims[1].Type.Sort != SortValue || ims[1].Type.ValueType == nil || *ims[1].Type.ValueType != prim(PrimU32) || ims[1].Type.String() != "(value u32)" {
		t.Errorf("value import %+v", ims[1])
	}
	spaces := c.IndexSpaces()
	if n := len(spaces[SortValue]); n != 4 { // two imports, one result, one export
		t.Errorf("%d values, want 4", n)
	}
	if _, ok := spaces[SortValue][2].Item.(*Start); !ok {
		t.Errorf("value 2 is %T", spaces[SortValue][2].Item)
	}
}

// TestTruncated cuts every fixture at every byte: each prefix is an error
// naming a place in the input, never a panic.
func TestTruncated(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.wasm")
	if err != nil || len(files) < 8 {
		t.Fatalf("fixtures %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		full, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		// A cut between two sections leaves a valid component.
		boundary := map[int]int{len(Preamble): 0}
		for i, s := range full.Sections[1:] {
			boundary[s.Offset()] = i + 1
		}
		for n := range len(b) {
			c, err := Decode(b[:n:n])
			if sections, ok := boundary[n]; ok {
				if err != nil || len(c.Sections) != sections {
					t.Fatalf("%s cut at %d, between sections: %v", f, n, err)
				}
				continue
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%s cut at %d: error %v, want an *Error", f, n, err)
			}
			if e.Offset < 0 || e.Offset > n {
				t.Fatalf("%s cut at %d: offset %d: %v", f, n, e.Offset, err)
			}
		}
	}
}

// TestRealComponents decodes the components WASMSERVE_COMPONENT names (a
// list, as PATH is), too large to commit: testdata/README.md says how to
// build a componentize-js HTTP handler. A component that exports
// wasi:http/incoming-handler is checked as a WASI 0.2 HTTP handler.
func TestRealComponents(t *testing.T) {
	paths := filepath.SplitList(os.Getenv("WASMSERVE_COMPONENT"))
	if len(paths) == 0 {
		t.Skip("WASMSERVE_COMPONENT names no component")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Names(); err != nil {
				t.Error(err)
			}
			var dump strings.Builder
			if err := c.Dump(&dump); err != nil {
				t.Fatal(err)
			}
			// The core modules may be in nested components.
			var modules func(*Component) int
			modules = func(c *Component) int {
				n := len(sectionsOf[*CoreModuleSection](c))
				for _, s := range sectionsOf[*ComponentSection](c) {
					n += modules(s.Component)
				}
				return n
			}
			if modules(c) == 0 || len(c.Exports()) == 0 {
				t.Errorf("%d core modules, %d exports", modules(c), len(c.Exports()))
			}
			var handler bool
			for _, e := range c.Exports() {
				handler = handler || strings.HasPrefix(e.Name, "wasi:http/incoming-handler@0.2.") && e.Sort() == SortInstance
			}
			if !handler {
				return
			}
			var http bool
			for _, im := range c.Imports() {
				http = http || strings.HasPrefix(im.Name, "wasi:http/types@0.2.") && im.Type.Sort == SortInstance
			}
			if !http {
				t.Error("no wasi:http/types import")
			}
			for _, cn := range canonsOf(c) {
				if !cn.Kind.MVP() {
					t.Errorf("canon %s in a WASI 0.2 component", cn.Kind)
				}
			}
		})
	}
}

func TestNamesSection(t *testing.T) {
	t.Parallel()
	c := fixture(t, "sections")
	n, err := c.Names()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sort Sort
		i    uint32
		want string
	}{
		{SortCoreMemory, 0, "mem"},
		{SortCoreModule, 1, "main"},
		{SortCoreInstance, 1, "host"},
		{SortCoreFunc, 1, "log-lowered"},
		{SortFunc, 2, "run"},
		{SortType, 3, "run-type"},
		{SortComponent, 0, "inner"},
		{SortInstance, 2, "bundle"},
		{SortFunc, 3, ""},
	}
	for _, tt := range tests {
		if got := n.Name(tt.sort, tt.i); got != tt.want {
			t.Errorf("%s %d: %q, want %q", tt.sort, tt.i, got, tt.want)
		}
	}
	if n.Component != "sections" {
		t.Errorf("component name %q", n.Component)
	}
	inner, err := sectionsOf[*ComponentSection](c)[0].Component.Names()
	if err != nil || inner.Name(SortFunc, 0) != "f" {
		t.Errorf("inner names %+v %v", inner, err)
	}

	bad := comp(sec(0, str("component-name"), []byte{0x01, 0x05, 0x01, 0x05, 0x00, 0x01, 0x01}))
	c, err = Decode(bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Names(); err == nil || !strings.Contains(err.Error(), "component-name, at byte 3 of its data: 5 names cannot fit") {
		t.Errorf("bad names: %v", err)
	}
	var none *Names
	if none.Name(SortFunc, 0) != "" {
		t.Error("nil Names names something")
	}
}

func TestDump(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := fixture(t, "sections").Dump(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	want := []string{
		"(component $sections ;; at 0x0",
		`  (@custom "producers-note" (12 bytes))`,
		`  type 0 $log-func: (func (param "msg" string))`,
		`  instance 0 $logging: (import "wasi:logging/logging@0.1.0-draft" (instance (type 1)))`,
		`  core type 1 $mt: (module (import "host" "log" (func (type 0))) (export "memory" (memory 1)))`,
		`  core module 0 $libc: 72 bytes at 0xa3`,
		`  core func 1 $log-lowered: (canon lower (func 1) (memory 0))`,
		`  core instance 1 $host: (exports (export "log" (core func 1)))`,
		`  core instance 2 $main: (instantiate 1 (with "host" (core instance 1)))`,
		`  func 2 $run: (canon lift (core func 2) string-encoding=utf16 (memory 0) (realloc 3) (post-return 4) (type 3))`,
		`  component 0 $inner:`,
		`    (component $inner ;; at 0x1e3`,
		`      func 0 $f: (import "f" (func (type 0)))`,
		`      type 0 $outer-t: (alias outer 1 3 (type))`,
		`  instance 2 $bundle: (exports (export "run" (func 2)) (export "inner" (instance 1)))`,
		`  func 3: (export "wasi:example/run@1.2.3" (func 2) (func (type 3)))`,
	}
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("no line %q in\n%s", w, b.String())
		}
	}
	if len(lines) != 37 { // 36 lines, and "" after the last newline
		t.Errorf("%d lines", len(lines))
	}

	b.Reset()
	if err := fixture(t, "coretypes").Dump(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`  core type 1 $refs: (func (param (ref null func) (ref null extern)) (result (ref null 0)))`,
		`  core type 2 $point: (sub (struct (field (mut i32)) (field i8)))`,
		`  core type 4 $point3: (sub final 2 (struct (field (mut i32)) (field i8) (field i16)))`,
		`(import "env" "shared" (memory 1 2 shared))`,
		`(import "env" "table" (table 10 20 (ref null extern)))`,
		`(import "env" "counter" (global (mut i32)))`,
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("no %q in\n%s", w, b.String())
		}
	}
}

func TestDecodeThreads(t *testing.T) {
	t.Parallel()
	c := fixture(t, "threads")
	want := []Canon{
		{Kind: CanonThreadSpawnRef},
		{Kind: CanonThreadSpawnIndirect, Table: 0},
		{Kind: CanonThreadAvailableParallelism},
		{Kind: CanonThreadIndex},
		{Kind: CanonThreadNewIndirect},
		{Kind: CanonThreadSuspend},
		{Kind: CanonThreadSuspendThenResume},
		{Kind: CanonThreadSuspendThenPromote},
		{Kind: CanonThreadResumeLater},
		{Kind: CanonThreadYieldThenResume},
		{Kind: CanonThreadYieldThenPromote},
	}
	if got := canonsOf(c); !reflect.DeepEqual(got, want) {
		t.Errorf("canons %+v", got)
	}
	if got := (&Canon{Kind: CanonThreadNewIndirect, Type: 2, Table: 1}).String(); got != "(canon thread.new-indirect (type 2) (table 1))" {
		t.Errorf("canon %s", got)
	}
	mt := sectionsOf[*CoreTypeSection](c)[1].Types[0].(*CoreModuleType)
	if im := mt.Decls[1].(*CoreImport); im.Type != (CoreExternType{Sort: SortCoreTag, TypeIndex: 0}) || im.Type.String() != "(tag (type 0))" {
		t.Errorf("tag import %+v", im)
	}
}

func TestDecodeExterns(t *testing.T) {
	t.Parallel()
	c := fixture(t, "externs")
	spaces := c.IndexSpaces()
	for _, s := range []Sort{SortCoreTable, SortCoreGlobal, SortCoreMemory, SortCoreTag} {
		if len(spaces[s]) != 1 || spaces[s][0].Item.(*Alias).Kind != AliasCoreExport {
			t.Errorf("%s: %+v", s, spaces[s])
		}
	}
	bundle := spaces[SortCoreInstance][1].Item.(*CoreInstance)
	var refs []string
	for _, e := range bundle.Exports {
		refs = append(refs, e.Name+" "+e.Ref.String())
	}
	if strings.Join(refs, ", ") != "tab (core table 0), glob (core global 0), mem (core memory 0), tag (core tag 0)" {
		t.Errorf("inline exports %v", refs)
	}
	ct := typesOf(c)[1].(*ComponentType)
	if im := ct.Decls[1].(*Import); im.Name != "host" || im.Type != (ExternType{Sort: SortInstance, Index: 0}) {
		t.Errorf("component type import %+v", im)
	}
	if a := ct.Decls[2].(*Alias); *a != (Alias{Target: SortType, Kind: AliasExport, Instance: 0, Name: "r"}) {
		t.Errorf("component type alias %+v", a)
	}
	ex := c.Exports()
	if ex[0].Type == nil || !ex[0].Type.SubResource || ex[0].Ref != (SortIndex{SortType, 2}) {
		t.Errorf("resource export %+v", ex[0])
	}
	lift := canonsOf(c)[0]
	if !lift.Options.Async || lift.Options.Callback != nil || *lift.Options.Memory != 0 {
		t.Errorf("async lift %+v", lift.Options)
	}
}
