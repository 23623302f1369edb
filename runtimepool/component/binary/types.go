package binary

import (
	"fmt"
	"strings"
)

// Type is a component-level type definition (deftype): a [PrimType], one
// of the defined value types (*RecordType, *VariantType, *ListType,
// *TupleType, *FlagsType, *EnumType, *OptionType, *ResultType, *OwnType,
// *BorrowType, *StreamType, *FutureType, *MapType), a *FuncType, a
// *ComponentType, an *InstanceType or a *ResourceType. Each adds one entry
// to the type index space.
type Type interface {
	// Kind says which of the type constructors this is.
	Kind() TypeKind
	// String writes the type as the text format does.
	String() string
}

// TypeKind is the constructor of a [Type].
type TypeKind uint8

// The type constructors.
const (
	KindPrim TypeKind = iota + 1
	KindRecord
	KindVariant
	KindList
	KindTuple
	KindFlags
	KindEnum
	KindOption
	KindResult
	KindOwn
	KindBorrow
	KindStream
	KindFuture
	KindMap
	KindFunc
	KindComponent
	KindInstance
	KindResource
)

var kindNames = [...]string{
	KindPrim: "primitive", KindRecord: "record", KindVariant: "variant", KindList: "list",
	KindTuple: "tuple", KindFlags: "flags", KindEnum: "enum", KindOption: "option",
	KindResult: "result", KindOwn: "own", KindBorrow: "borrow", KindStream: "stream",
	KindFuture: "future", KindMap: "map", KindFunc: "func", KindComponent: "component",
	KindInstance: "instance", KindResource: "resource",
}

// String names the constructor as the text format does ("record").
func (k TypeKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// PrimType is a primitive value type, by its binary code (0x7f bool down
// to 0x73 string; 0x64 error-context, of the async proposal). The zero
// value is no primitive type.
type PrimType byte

// The primitive value types.
const (
	PrimBool         PrimType = 0x7f
	PrimS8           PrimType = 0x7e
	PrimU8           PrimType = 0x7d
	PrimS16          PrimType = 0x7c
	PrimU16          PrimType = 0x7b
	PrimS32          PrimType = 0x7a
	PrimU32          PrimType = 0x79
	PrimS64          PrimType = 0x78
	PrimU64          PrimType = 0x77
	PrimF32          PrimType = 0x76
	PrimF64          PrimType = 0x75
	PrimChar         PrimType = 0x74
	PrimString       PrimType = 0x73
	PrimErrorContext PrimType = 0x64
)

// primNames maps the codes from PrimString (0x73) up to PrimBool.
var primNames = [...]string{"string", "char", "f64", "f32", "u64", "s64", "u32", "s32", "u16", "s16", "u8", "s8", "bool"}

// Valid reports whether p is one of the primitive value types.
func (p PrimType) Valid() bool {
	return p == PrimErrorContext || (p >= PrimString && p <= PrimBool)
}

// String names the type as WIT does ("u32", "error-context").
func (p PrimType) String() string {
	switch {
	case p == PrimErrorContext:
		return "error-context"
	case p >= PrimString && p <= PrimBool:
		return primNames[p-PrimString]
	}
	return fmt.Sprintf("primtype(0x%02x)", byte(p))
}

// Kind returns KindPrim.
func (PrimType) Kind() TypeKind { return KindPrim }

// ValType is a value type where one is used: a primitive type or a
// reference to a defined value type of the type index space.
type ValType struct {
	// Prim is the primitive type, or 0 when the value type is the type
	// Index.
	Prim PrimType
	// Index is the type index, when Prim is 0.
	Index uint32
}

// String writes the type as the text format does: "u32" or "(type 3)".
func (v ValType) String() string {
	if v.Prim != 0 {
		return v.Prim.String()
	}
	return fmt.Sprintf("(type %d)", v.Index)
}

// Field is a labeled value type: a record's field or a function's
// parameter.
type Field struct {
	// Name is the label.
	Name string
	// Type is its type.
	Type ValType
}

// RecordType is (record (field "name" t)...).
type RecordType struct {
	// Fields are the fields in order.
	Fields []Field
}

// Kind returns KindRecord.
func (*RecordType) Kind() TypeKind { return KindRecord }

// Case is one case of a variant.
type Case struct {
	// Name is the case's label.
	Name string
	// Type is its payload's type, nil for a case without one.
	Type *ValType
}

// VariantType is (variant (case "name" t?)...).
type VariantType struct {
	// Cases are the cases in order of their discriminants.
	Cases []Case
}

// Kind returns KindVariant.
func (*VariantType) Kind() TypeKind { return KindVariant }

// ListType is (list t), or the fixed-length (list t Len).
type ListType struct {
	// Elem is the element type.
	Elem ValType
	// Len is the length of a fixed-length list, 0 for a list of any length.
	Len uint32
}

// Kind returns KindList.
func (*ListType) Kind() TypeKind { return KindList }

// TupleType is (tuple t...).
type TupleType struct {
	// Types are the elements' types.
	Types []ValType
}

// Kind returns KindTuple.
func (*TupleType) Kind() TypeKind { return KindTuple }

// FlagsType is (flags "name"...).
type FlagsType struct {
	// Names are the flags in bit order.
	Names []string
}

// Kind returns KindFlags.
func (*FlagsType) Kind() TypeKind { return KindFlags }

// EnumType is (enum "name"...).
type EnumType struct {
	// Names are the cases in order of their discriminants.
	Names []string
}

// Kind returns KindEnum.
func (*EnumType) Kind() TypeKind { return KindEnum }

// OptionType is (option t).
type OptionType struct {
	// Elem is the type of the value, when there is one.
	Elem ValType
}

// Kind returns KindOption.
func (*OptionType) Kind() TypeKind { return KindOption }

// ResultType is (result t? (error u)?).
type ResultType struct {
	// OK is the success payload's type, nil for none.
	OK *ValType
	// Err is the error payload's type, nil for none.
	Err *ValType
}

// Kind returns KindResult.
func (*ResultType) Kind() TypeKind { return KindResult }

// OwnType is (own i): an owned handle of the resource type i.
type OwnType struct {
	// Resource is the resource's type index.
	Resource uint32
}

// Kind returns KindOwn.
func (*OwnType) Kind() TypeKind { return KindOwn }

// BorrowType is (borrow i): a borrowed handle of the resource type i.
type BorrowType struct {
	// Resource is the resource's type index.
	Resource uint32
}

// Kind returns KindBorrow.
func (*BorrowType) Kind() TypeKind { return KindBorrow }

// StreamType is (stream t?), of the async proposal.
type StreamType struct {
	// Elem is the element type, nil for a stream of no values.
	Elem *ValType
}

// Kind returns KindStream.
func (*StreamType) Kind() TypeKind { return KindStream }

// FutureType is (future t?), of the async proposal.
type FutureType struct {
	// Elem is the value's type, nil for a future of no value.
	Elem *ValType
}

// Kind returns KindFuture.
func (*FutureType) Kind() TypeKind { return KindFuture }

// MapType is (map k v), of the map proposal.
type MapType struct {
	// Key is the keys' type.
	Key ValType
	// Value is the values' type.
	Value ValType
}

// Kind returns KindMap.
func (*MapType) Kind() TypeKind { return KindMap }

// FuncType is (func async? (param "name" t)* (result t)?).
type FuncType struct {
	// Async is set for the async proposal's (func async ...) form (0x43).
	Async bool
	// Params are the parameters in order.
	Params []Field
	// Result is the result's type, nil for a function without one.
	Result *ValType
}

// Kind returns KindFunc.
func (*FuncType) Kind() TypeKind { return KindFunc }

// String writes the type as the text format does.
func (f *FuncType) String() string {
	var b strings.Builder
	b.WriteString("(func")
	if f.Async {
		b.WriteString(" async")
	}
	for _, p := range f.Params {
		fmt.Fprintf(&b, " (param %q %s)", p.Name, p.Type)
	}
	if f.Result != nil {
		fmt.Fprintf(&b, " (result %s)", *f.Result)
	}
	b.WriteString(")")
	return b.String()
}

// ComponentType is (component decl...): the type of a component, with a
// type index space of its own.
type ComponentType struct {
	// Decls are the declarations in order: *CoreTypeDecl, *TypeDecl,
	// *Alias, *Import and *ExportDecl.
	Decls []Decl
}

// Kind returns KindComponent.
func (*ComponentType) Kind() TypeKind { return KindComponent }

// InstanceType is (instance decl...): the type of an instance, with a type
// index space of its own.
type InstanceType struct {
	// Decls are the declarations in order: *CoreTypeDecl, *TypeDecl,
	// *Alias and *ExportDecl.
	Decls []Decl
}

// Kind returns KindInstance.
func (*InstanceType) Kind() TypeKind { return KindInstance }

// ResourceType is (resource (rep i32) (dtor f)?): a new resource type,
// defined by this component.
type ResourceType struct {
	// Rep is the core type of the representation: i32.
	Rep CoreValType
	// Dtor is the core function index of the destructor, nil for none.
	Dtor *uint32
}

// Kind returns KindResource.
func (*ResourceType) Kind() TypeKind { return KindResource }

// Decl is a declaration of a component or instance type: a *CoreTypeDecl,
// a *TypeDecl, an *Alias, an *Import (component types only) or an
// *ExportDecl. Each adds one entry to the index space Sort of the type's
// own scope.
type Decl interface {
	// Sort is the index space the declaration adds to.
	Sort() Sort
	// String writes the declaration as the text format does.
	String() string
	isDecl()
}

// CoreTypeDecl declares a core type in a component, instance or core
// module type.
type CoreTypeDecl struct {
	// Type is the core type.
	Type CoreType
}

// Sort returns SortCoreType.
func (*CoreTypeDecl) Sort() Sort { return SortCoreType }
func (*CoreTypeDecl) isDecl()    {}

// TypeDecl declares a type in a component or instance type.
type TypeDecl struct {
	// Type is the type.
	Type Type
}

// Sort returns SortType.
func (*TypeDecl) Sort() Sort { return SortType }
func (*TypeDecl) isDecl()    {}

// ExportDecl declares an export of a component or instance type.
type ExportDecl struct {
	// Name is the export's name, as in the binary
	// ("wasi:http/types@0.2.0", "handle").
	Name string
	// Attributes are the name's attributes.
	Attributes Attributes
	// Type is what is exported.
	Type ExternType
}

// Sort returns the sort of the exported item.
func (e *ExportDecl) Sort() Sort { return e.Type.Sort }
func (*ExportDecl) isDecl()      {}

// Sort returns the sort of the imported item.
func (i *Import) Sort() Sort { return i.Type.Sort }
func (*Import) isDecl()      {}

// Sort returns the sort of the aliased item.
func (a *Alias) Sort() Sort { return a.Target }
func (*Alias) isDecl()      {}

// ExternType is the type of an import or export (externtype): a core
// module, func, component or instance of a type index; a value; or a type
// (eq i) or (sub resource).
type ExternType struct {
	// Sort is the kind of item: SortCoreModule, SortFunc, SortValue,
	// SortType, SortComponent or SortInstance.
	Sort Sort
	// Index is the type index of a core module (a core type), func,
	// component or instance; the type i of a type bound (eq i).
	Index uint32
	// SubResource is set for a type bound (sub resource): a fresh
	// resource type. Index is then 0.
	SubResource bool
	// ValueType is a value's type (of the value proposal), for SortValue.
	// It is written as wasm-tools writes it, a valtype alone; Binary.md's
	// value bound (eq i) is not decoded.
	ValueType *ValType
}

// String writes the type as the text format does: "(instance (type 3))",
// "(type (sub resource))".
func (e ExternType) String() string {
	switch {
	case e.Sort == SortType && e.SubResource:
		return "(type (sub resource))"
	case e.Sort == SortType:
		return fmt.Sprintf("(type (eq %d))", e.Index)
	case e.Sort == SortValue && e.ValueType != nil:
		return fmt.Sprintf("(value %s)", *e.ValueType)
	}
	return fmt.Sprintf("(%s (type %d))", e.Sort, e.Index)
}

// valType reads a valtype: a primitive type's code, or a type index.
func (r *reader) valType() (ValType, error) {
	start := r.pos
	i, code, err := r.indexOrCode()
	if err != nil {
		return ValType{}, err
	}
	if code == 0 {
		return ValType{Index: i}, nil
	}
	if p := PrimType(code); p.Valid() {
		return ValType{Prim: p}, nil
	}
	return ValType{}, errorf(start, "invalid value type 0x%02x", r.b[start])
}

// optValType reads an optional valtype (0x00, or 0x01 and a valtype).
func (r *reader) optValType(what string) (*ValType, error) {
	has, err := r.flag(what)
	if err != nil || !has {
		return nil, err
	}
	t, err := r.valType()
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// fields reads a vector of labeled value types.
func (r *reader) fields(what string) ([]Field, error) {
	return vec(r, what, 2, func(r *reader) (Field, error) {
		var f Field
		var err error
		if f.Name, err = r.name(); err != nil {
			return f, err
		}
		f.Type, err = r.valType()
		return f, err
	})
}

// typeDef reads a deftype.
func (r *reader) typeDef() (Type, error) {
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	if p := PrimType(c); p.Valid() {
		return p, nil
	}
	switch c {
	case 0x72:
		fs, err := r.fields("record fields")
		if err != nil {
			return nil, err
		}
		return &RecordType{Fields: fs}, nil
	case 0x71:
		return r.variant()
	case 0x70:
		t, err := r.valType()
		return &ListType{Elem: t}, err
	case 0x67:
		t, err := r.valType()
		if err != nil {
			return nil, err
		}
		at := r.pos
		n, err := r.u32()
		if err == nil && n == 0 {
			err = errorf(at, "fixed-length list of length 0")
		}
		return &ListType{Elem: t, Len: n}, err
	case 0x6f:
		ts, err := vec(r, "tuple types", 1, (*reader).valType)
		return &TupleType{Types: ts}, err
	case 0x6e:
		names, err := vec(r, "flags", 1, (*reader).name)
		return &FlagsType{Names: names}, err
	case 0x6d:
		names, err := vec(r, "enum cases", 1, (*reader).name)
		return &EnumType{Names: names}, err
	case 0x6b:
		t, err := r.valType()
		return &OptionType{Elem: t}, err
	case 0x6a:
		ok, err := r.optValType("result ok type")
		if err != nil {
			return nil, err
		}
		e, err := r.optValType("result error type")
		return &ResultType{OK: ok, Err: e}, err
	case 0x69:
		i, err := r.u32()
		return &OwnType{Resource: i}, err
	case 0x68:
		i, err := r.u32()
		return &BorrowType{Resource: i}, err
	case 0x66:
		t, err := r.optValType("stream element type")
		return &StreamType{Elem: t}, err
	case 0x65:
		t, err := r.optValType("future value type")
		return &FutureType{Elem: t}, err
	case 0x63:
		k, err := r.valType()
		if err != nil {
			return nil, err
		}
		v, err := r.valType()
		return &MapType{Key: k, Value: v}, err
	case 0x40, 0x43:
		return r.funcType(c == 0x43)
	case 0x41:
		decls, err := r.decls("component type", true)
		if err != nil {
			return nil, err
		}
		return &ComponentType{Decls: decls}, nil
	case 0x42:
		decls, err := r.decls("instance type", false)
		if err != nil {
			return nil, err
		}
		return &InstanceType{Decls: decls}, nil
	case 0x3f:
		rep, err := r.coreValType()
		if err != nil {
			return nil, err
		}
		if rep.Code != CoreI32 {
			return nil, errorf(start+1, "resource representation %s, want i32", rep)
		}
		has, err := r.flag("resource destructor")
		if err != nil || !has {
			return &ResourceType{Rep: rep}, err
		}
		f, err := r.u32()
		return &ResourceType{Rep: rep, Dtor: &f}, err
	}
	return nil, errorf(start, "unknown type 0x%02x", c)
}

// variant reads a variant's cases (after 0x71).
func (r *reader) variant() (*VariantType, error) {
	cs, err := vec(r, "variant cases", 3, func(r *reader) (Case, error) {
		var c Case
		var err error
		if c.Name, err = r.name(); err != nil {
			return c, err
		}
		if c.Type, err = r.optValType("variant case type"); err != nil {
			return c, err
		}
		// A 0x00 reserved for a future refinement of the case.
		return c, r.expect(0x00, "variant case")
	})
	return &VariantType{Cases: cs}, err
}

// funcType reads a function type's parameters and result (after 0x40 or
// 0x43).
func (r *reader) funcType(async bool) (*FuncType, error) {
	ps, err := r.fields("parameters")
	if err != nil {
		return nil, err
	}
	res, err := r.resultList()
	return &FuncType{Async: async, Params: ps, Result: res}, err
}

// resultList reads a resultlist: 0x00 and one type, or 0x01 0x00 for none.
func (r *reader) resultList() (*ValType, error) {
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch c {
	case 0x00:
		t, err := r.valType()
		return &t, err
	case 0x01:
		return nil, r.expect(0x00, "empty result list")
	}
	return nil, errorf(start, "unknown result list 0x%02x", c)
}

// decls reads the declarations of a component type (imports allowed) or an
// instance type.
func (r *reader) decls(what string, component bool) ([]Decl, error) {
	if err := r.enter(what); err != nil {
		return nil, err
	}
	defer r.leave()
	n, err := r.count(what+" declarations", 2)
	if err != nil {
		return nil, err
	}
	ds := make([]Decl, n)
	for i := range ds {
		start := r.pos
		c, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch {
		case c == 0x00:
			t, err := r.coreType()
			if err != nil {
				return nil, err
			}
			ds[i] = &CoreTypeDecl{Type: t}
		case c == 0x01:
			t, err := r.typeDef()
			if err != nil {
				return nil, err
			}
			ds[i] = &TypeDecl{Type: t}
		case c == 0x02:
			a, err := r.alias()
			if err != nil {
				return nil, err
			}
			ds[i] = &a
		case c == 0x03 && component:
			im, err := r.importDef()
			if err != nil {
				return nil, err
			}
			ds[i] = &im
		case c == 0x04:
			// An export declaration is written as an import is.
			im, err := r.importDef()
			if err != nil {
				return nil, err
			}
			e := ExportDecl(im)
			ds[i] = &e
		default:
			return nil, errorf(start, "unknown %s declaration 0x%02x", what, c)
		}
	}
	return ds, nil
}

// externType reads an externtype.
func (r *reader) externType() (ExternType, error) {
	start := r.pos
	s, err := r.sort()
	if err != nil {
		return ExternType{}, err
	}
	e := ExternType{Sort: s}
	switch s {
	case SortCoreModule, SortFunc, SortComponent, SortInstance:
		e.Index, err = r.u32()
	case SortType:
		var sub bool
		if sub, err = r.flag("type bound"); err == nil {
			if sub {
				e.SubResource = true
			} else {
				e.Index, err = r.u32()
			}
		}
	case SortValue:
		// Binary.md describes a valuebound here ((eq i) or a type), but
		// the tools (wasm-tools, and so jco) write the value's type alone,
		// the earlier form; values are a gated feature nobody else writes.
		var t ValType
		t, err = r.valType()
		e.ValueType = &t
	default:
		return e, errorf(start, "%s cannot be imported or exported", s)
	}
	return e, err
}
