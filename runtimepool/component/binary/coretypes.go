package binary

import "fmt"

// CoreType is a core type definition of a component (core:deftype): a
// *CoreRecType (a function, struct or array type, alone or in a rec
// group) or a *CoreModuleType. A rec group adds one entry to the core type
// index space per type in it; the others add one.
type CoreType interface {
	// String writes the type as the text format does.
	String() string
	isCoreType()
}

// CoreRecType is a rec group of core types, or one core type outside of
// any group.
type CoreRecType struct {
	// Group is set for an explicit (rec ...) group, even of one type.
	Group bool
	// Types are the group's types in order; one when Group is not set.
	Types []CoreSubType
}

func (*CoreRecType) isCoreType() {}

// CoreCompKind is what a core composite type is.
type CoreCompKind uint8

// The core composite types.
const (
	CoreFunc CoreCompKind = iota + 1
	CoreStruct
	CoreArray
)

// String names the kind as the text format does ("func").
func (k CoreCompKind) String() string {
	switch k {
	case CoreFunc:
		return "func"
	case CoreStruct:
		return "struct"
	case CoreArray:
		return "array"
	}
	return fmt.Sprintf("compkind(%d)", uint8(k))
}

// CoreSubType is a core composite type with its subtyping: (sub final?
// supers... comptype), or a plain comptype (Final, no supers).
type CoreSubType struct {
	// Final is not set for a type that may have subtypes.
	Final bool
	// Supers are the declared supertypes' core type indices.
	Supers []uint32
	// Kind is the composite type: a function, a struct or an array.
	Kind CoreCompKind
	// Params and Results are a function type's.
	Params, Results []CoreValType
	// Fields are a struct's fields, or an array's one element type.
	Fields []CoreFieldType
}

// CoreFieldType is a struct field or an array element: its storage type
// and mutability.
type CoreFieldType struct {
	// Type is the storage type: a value type, or the packed CoreI8 or
	// CoreI16.
	Type CoreValType
	// Mutable is set for a mutable field.
	Mutable bool
}

// CoreModuleType is (module decl...): the type of a core module, with a
// core type index space of its own.
type CoreModuleType struct {
	// Decls are the declarations in order: *CoreImport, *CoreTypeDecl,
	// *Alias (outer core types) and *CoreExportDecl.
	Decls []CoreModuleDecl
}

func (*CoreModuleType) isCoreType() {}

// CoreModuleDecl is a declaration of a core module type: a *CoreImport, a
// *CoreTypeDecl, an *Alias or a *CoreExportDecl.
type CoreModuleDecl interface {
	// String writes the declaration as the text format does.
	String() string
	isCoreModuleDecl()
}

func (*CoreTypeDecl) isCoreModuleDecl() {}
func (*Alias) isCoreModuleDecl()        {}

// CoreImport is a core module type's import.
type CoreImport struct {
	// Module and Name are the import's two-level name.
	Module, Name string
	// Type is what is imported.
	Type CoreExternType
}

func (*CoreImport) isCoreModuleDecl() {}

// CoreExportDecl is a core module type's export.
type CoreExportDecl struct {
	// Name is the export's name.
	Name string
	// Type is what is exported.
	Type CoreExternType
}

func (*CoreExportDecl) isCoreModuleDecl() {}

// CoreExternType is a core import's or export's type.
type CoreExternType struct {
	// Sort is SortCoreFunc, SortCoreTable, SortCoreMemory, SortCoreGlobal
	// or SortCoreTag.
	Sort Sort
	// TypeIndex is a function's or a tag's core type index.
	TypeIndex uint32
	// Type is a table's element type or a global's type.
	Type CoreValType
	// Limits are a table's or a memory's.
	Limits Limits
	// Mutable is set for a mutable global.
	Mutable bool
}

// Limits are a core table's or memory's limits.
type Limits struct {
	// Min is the minimum, in elements or pages.
	Min uint64
	// Max is the maximum, when HasMax.
	Max uint64
	// HasMax is set when the limits have a maximum.
	HasMax bool
	// Shared is set for a shared memory (threads).
	Shared bool
	// Is64 is set for a 64-bit memory or table (memory64).
	Is64 bool
}

// The codes of core value types that CoreValType.Code holds.
const (
	CoreI32  byte = 0x7f
	CoreI64  byte = 0x7e
	CoreF32  byte = 0x7d
	CoreF64  byte = 0x7c
	CoreV128 byte = 0x7b
	// CoreI8 and CoreI16 are packed storage types, of struct fields and
	// array elements only.
	CoreI8  byte = 0x78
	CoreI16 byte = 0x77
	// CoreRef is (ref ht); CoreRefNull is (ref null ht), and every
	// shorthand such as funcref.
	CoreRef     byte = 0x64
	CoreRefNull byte = 0x63
)

// CoreValType is a core value type.
type CoreValType struct {
	// Code is the type's code: CoreI32 ... CoreV128, CoreI8, CoreI16,
	// CoreRef or CoreRefNull. A shorthand reference type (0x70 funcref)
	// is decoded as CoreRefNull with its heap type.
	Code byte
	// Heap is a reference type's heap type.
	Heap HeapType
}

// HeapType is a reference type's heap type: an abstract one by its code
// (0x70 func, 0x6f extern, ...) or a core type index.
type HeapType struct {
	// Abstract is an abstract heap type's code, 0 for a type index.
	Abstract byte
	// Index is the core type index when Abstract is 0.
	Index uint32
}

var abstractHeapNames = map[byte]string{
	0x75: "nocont", 0x74: "noexn", 0x73: "nofunc", 0x72: "noextern", 0x71: "none", 0x70: "func",
	0x6f: "extern", 0x6e: "any", 0x6d: "eq", 0x6c: "i31", 0x6b: "struct", 0x6a: "array",
	0x69: "exn", 0x68: "cont",
}

// String writes the heap type as the text format does: "func" or "3".
func (h HeapType) String() string {
	if h.Abstract != 0 {
		return abstractHeapNames[h.Abstract]
	}
	return fmt.Sprint(h.Index)
}

// String writes the type as the text format does: "i32", "(ref null func)".
func (t CoreValType) String() string {
	switch t.Code {
	case CoreI32:
		return "i32"
	case CoreI64:
		return "i64"
	case CoreF32:
		return "f32"
	case CoreF64:
		return "f64"
	case CoreV128:
		return "v128"
	case CoreI8:
		return "i8"
	case CoreI16:
		return "i16"
	case CoreRef:
		return fmt.Sprintf("(ref %s)", t.Heap)
	case CoreRefNull:
		return fmt.Sprintf("(ref null %s)", t.Heap)
	}
	return fmt.Sprintf("valtype(0x%02x)", t.Code)
}

// coreValType reads a core value type.
func (r *reader) coreValType() (CoreValType, error) {
	return r.storageType(false)
}

// storageType reads a core value type, or a packed one if packed.
func (r *reader) storageType(packed bool) (CoreValType, error) {
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return CoreValType{}, err
	}
	switch {
	case c >= CoreV128 && c <= CoreI32, packed && (c == CoreI8 || c == CoreI16):
		return CoreValType{Code: c}, nil
	case c == CoreRef || c == CoreRefNull:
		h, err := r.heapType()
		return CoreValType{Code: c, Heap: h}, err
	case abstractHeapNames[c] != "":
		return CoreValType{Code: CoreRefNull, Heap: HeapType{Abstract: c}}, nil
	}
	return CoreValType{}, errorf(start, "unknown core value type 0x%02x", c)
}

// heapType reads a heap type: an abstract one's code, or a type index.
func (r *reader) heapType() (HeapType, error) {
	start := r.pos
	i, code, err := r.indexOrCode()
	if err != nil {
		return HeapType{}, err
	}
	if code == 0 {
		return HeapType{Index: i}, nil
	}
	if abstractHeapNames[code] != "" {
		return HeapType{Abstract: code}, nil
	}
	return HeapType{}, errorf(start, "unknown heap type 0x%02x", r.b[start])
}

// coreType reads a core:type of a component: a module type (0x50), a
// non-final sub type written 0x00 0x50, or a rec group.
func (r *reader) coreType() (CoreType, error) {
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch c {
	case 0x50:
		return r.moduleType()
	case 0x00:
		// A non-final sub outside of a rec group: 0x00 0x50, because 0x50
		// alone is a module type here.
		at := r.pos
		if err := r.expect(0x50, "core sub type"); err != nil {
			return nil, err
		}
		st, err := r.subType(at, 0x50)
		return &CoreRecType{Types: []CoreSubType{st}}, err
	}
	return r.recGroup(start, c)
}

// recGroup reads a rec group (0x4e) or a single sub type as core modules
// write them, where 0x50 is a non-final sub type; its first byte c, at
// offset start, was read.
func (r *reader) recGroup(start int, c byte) (*CoreRecType, error) {
	if c != 0x4e {
		st, err := r.subType(start, c)
		return &CoreRecType{Types: []CoreSubType{st}}, err
	}
	ts, err := vec(r, "rec group types", 1, func(r *reader) (CoreSubType, error) {
		at := r.pos
		c, err := r.byte()
		if err != nil {
			return CoreSubType{}, err
		}
		return r.subType(at, c)
	})
	if err != nil {
		return nil, err
	}
	return &CoreRecType{Group: true, Types: ts}, nil
}

// subType reads a core subtype whose first byte c, at offset at, was read.
func (r *reader) subType(at int, c byte) (CoreSubType, error) {
	st := CoreSubType{Final: true}
	if c == 0x50 || c == 0x4f {
		st.Final = c == 0x4f
		var err error
		if st.Supers, err = vec(r, "supertypes", 1, (*reader).u32); err != nil {
			return st, err
		}
		at = r.pos
		if c, err = r.byte(); err != nil {
			return st, err
		}
	}
	var err error
	switch c {
	case 0x60:
		st.Kind = CoreFunc
		if st.Params, err = vec(r, "parameters", 1, (*reader).coreValType); err != nil {
			return st, err
		}
		st.Results, err = vec(r, "results", 1, (*reader).coreValType)
	case 0x5f:
		st.Kind = CoreStruct
		st.Fields, err = vec(r, "struct fields", 2, (*reader).fieldType)
	case 0x5e:
		st.Kind = CoreArray
		var f CoreFieldType
		f, err = r.fieldType()
		st.Fields = []CoreFieldType{f}
	default:
		return st, errorf(at, "unknown core type 0x%02x", c)
	}
	return st, err
}

// fieldType reads a struct field's or array element's type.
func (r *reader) fieldType() (CoreFieldType, error) {
	t, err := r.storageType(true)
	if err != nil {
		return CoreFieldType{}, err
	}
	mut, err := r.flag("field mutability")
	return CoreFieldType{Type: t, Mutable: mut}, err
}

// moduleType reads a core module type's declarations (after 0x50).
func (r *reader) moduleType() (*CoreModuleType, error) {
	if err := r.enter("core module type"); err != nil {
		return nil, err
	}
	defer r.leave()
	n, err := r.count("core module type declarations", 2)
	if err != nil {
		return nil, err
	}
	mt := &CoreModuleType{Decls: make([]CoreModuleDecl, n)}
	for i := range mt.Decls {
		start := r.pos
		c, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch c {
		case 0x00:
			var im CoreImport
			if im.Module, err = r.name(); err != nil {
				return nil, err
			}
			if im.Name, err = r.name(); err != nil {
				return nil, err
			}
			if im.Type, err = r.coreExternType(); err != nil {
				return nil, err
			}
			mt.Decls[i] = &im
		case 0x01:
			// A module type declares core types as core modules write
			// them (wasm-tools does, 0x50 being a sub type here), not as
			// a component's core types: a module type has none inside.
			at := r.pos
			c, err := r.byte()
			if err != nil {
				return nil, err
			}
			t, err := r.recGroup(at, c)
			if err != nil {
				return nil, err
			}
			mt.Decls[i] = &CoreTypeDecl{Type: t}
		case 0x02:
			at := r.pos
			s, err := r.coreSort()
			if err != nil {
				return nil, err
			}
			if s != SortCoreType {
				return nil, errorf(at, "core module type alias of a %s, want core type", s)
			}
			if err := r.expect(0x01, "core module type alias"); err != nil {
				return nil, err
			}
			a := Alias{Target: s, Kind: AliasOuter}
			if a.Outer, err = r.u32(); err != nil {
				return nil, err
			}
			if a.Index, err = r.u32(); err != nil {
				return nil, err
			}
			mt.Decls[i] = &a
		case 0x03:
			var e CoreExportDecl
			if e.Name, err = r.name(); err != nil {
				return nil, err
			}
			if e.Type, err = r.coreExternType(); err != nil {
				return nil, err
			}
			mt.Decls[i] = &e
		default:
			return nil, errorf(start, "unknown core module type declaration 0x%02x", c)
		}
	}
	return mt, nil
}

// coreExternType reads a core import's or export's type.
func (r *reader) coreExternType() (CoreExternType, error) {
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return CoreExternType{}, err
	}
	var e CoreExternType
	switch c {
	case 0x00:
		e.Sort = SortCoreFunc
		e.TypeIndex, err = r.u32()
	case 0x01:
		e.Sort = SortCoreTable
		if e.Type, err = r.coreValType(); err != nil {
			return e, err
		}
		if e.Type.Code != CoreRef && e.Type.Code != CoreRefNull {
			return e, errorf(start+1, "table of %s, want a reference type", e.Type)
		}
		e.Limits, err = r.limits()
	case 0x02:
		e.Sort = SortCoreMemory
		e.Limits, err = r.limits()
	case 0x03:
		e.Sort = SortCoreGlobal
		if e.Type, err = r.coreValType(); err != nil {
			return e, err
		}
		e.Mutable, err = r.flag("global mutability")
	case 0x04:
		e.Sort = SortCoreTag
		if err = r.expect(0x00, "tag attribute"); err != nil {
			return e, err
		}
		e.TypeIndex, err = r.u32()
	default:
		return e, errorf(start, "unknown core import or export type 0x%02x", c)
	}
	return e, err
}

// limits reads a table's or memory's limits.
func (r *reader) limits() (Limits, error) {
	start := r.pos
	flags, err := r.byte()
	if err != nil {
		return Limits{}, err
	}
	if flags > 0x07 {
		return Limits{}, errorf(start, "unknown limits flags 0x%02x", flags)
	}
	l := Limits{HasMax: flags&1 != 0, Shared: flags&2 != 0, Is64: flags&4 != 0}
	bits := uint(32)
	if l.Is64 {
		bits = 64
	}
	v, err := r.leb(bits, false)
	if err != nil {
		return l, err
	}
	l.Min = uint64(v)
	if l.HasMax {
		if v, err = r.leb(bits, false); err != nil {
			return l, err
		}
		l.Max = uint64(v)
	}
	return l, nil
}
