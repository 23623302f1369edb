package cabi

import (
	"fmt"
	"strings"
)

// Kind is a value type's kind.
type Kind uint8

// The kinds of value types. The zero Kind is no kind, refused by
// [Type.Check].
const (
	KindBool Kind = iota + 1
	KindS8
	KindU8
	KindS16
	KindU16
	KindS32
	KindU32
	KindS64
	KindU64
	KindF32
	KindF64
	KindChar
	KindString
	KindList
	KindRecord
	KindTuple
	KindVariant
	KindEnum
	KindOption
	KindResult
	KindFlags
	KindOwn
	KindBorrow
)

var kindNames = [...]string{
	KindBool: "bool", KindS8: "s8", KindU8: "u8", KindS16: "s16", KindU16: "u16", KindS32: "s32", KindU32: "u32",
	KindS64: "s64", KindU64: "u64", KindF32: "f32", KindF64: "f64", KindChar: "char", KindString: "string",
	KindList: "list", KindRecord: "record", KindTuple: "tuple", KindVariant: "variant", KindEnum: "enum",
	KindOption: "option", KindResult: "result", KindFlags: "flags", KindOwn: "own", KindBorrow: "borrow",
}

// String returns the kind's WIT keyword ("u32", "list", "own"…).
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MaxFlags is the most labels a flags type may have: its value is a uint32.
const MaxFlags = 32

// Type is a resolved component-model value type: no type indices left, every
// field points at the type itself. Types may be shared by concurrent calls.
// A Type keeps its layout once it was used: never modify a Type, or a copy
// of one, after its first use; build a new one.
type Type struct {
	Kind Kind
	// Name is the type's name in WIT ("error-code"), for messages; empty
	// for an anonymous type. Named types print as their name.
	Name   string
	Elem   *Type    // list, option
	Fields []Field  // record
	Elems  []*Type  // tuple
	Cases  []Case   // variant
	Labels []string // enum, flags
	// Ok and Err are a result's payloads; nil for none.
	Ok, Err *Type
	// Resource is the identity of an own's or borrow's resource type,
	// compared by pointer.
	Resource *Resource

	// layout caches the size, alignment and flattening of a record,
	// tuple or variant-like type once first used (see layoutOf).
	layout uint64
}

// Field is a record's field.
type Field struct {
	Name string
	Type *Type
}

// Case is a variant's case; Type is nil for a case without payload.
type Case struct {
	Name string
	Type *Type
}

// Resource identifies a resource type: two handles are of the same resource
// type when their Resource pointers are equal.
type Resource struct {
	Name string // for messages
}

// Primitive types, shared: they carry no name and are never modified.
var (
	BoolType   = &Type{Kind: KindBool}
	S8Type     = &Type{Kind: KindS8}
	U8Type     = &Type{Kind: KindU8}
	S16Type    = &Type{Kind: KindS16}
	U16Type    = &Type{Kind: KindU16}
	S32Type    = &Type{Kind: KindS32}
	U32Type    = &Type{Kind: KindU32}
	S64Type    = &Type{Kind: KindS64}
	U64Type    = &Type{Kind: KindU64}
	F32Type    = &Type{Kind: KindF32}
	F64Type    = &Type{Kind: KindF64}
	CharType   = &Type{Kind: KindChar}
	StringType = &Type{Kind: KindString}
)

// ListOf returns the type list<elem>.
func ListOf(elem *Type) *Type { return &Type{Kind: KindList, Elem: elem} }

// OptionOf returns the type option<elem>.
func OptionOf(elem *Type) *Type { return &Type{Kind: KindOption, Elem: elem} }

// ResultOf returns the type result<ok, err>; nil means no payload.
func ResultOf(ok, err *Type) *Type { return &Type{Kind: KindResult, Ok: ok, Err: err} }

// TupleOf returns the type tuple<elems...>.
func TupleOf(elems ...*Type) *Type { return &Type{Kind: KindTuple, Elems: elems} }

// String returns the type in WIT syntax: "list<tuple<string, u8>>",
// "result<_, error-code>", "record { a: u8 }". A named type prints as its
// name.
func (t *Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Type) write(b *strings.Builder) {
	if t == nil {
		b.WriteString("_")
		return
	}
	if t.Name != "" {
		b.WriteString(t.Name)
		return
	}
	switch t.Kind {
	case KindList, KindOption:
		b.WriteString(t.Kind.String())
		b.WriteByte('<')
		t.Elem.write(b)
		b.WriteByte('>')
	case KindTuple:
		b.WriteString("tuple<")
		for i, e := range t.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.write(b)
		}
		b.WriteByte('>')
	case KindResult:
		b.WriteString("result")
		switch {
		case t.Ok == nil && t.Err == nil:
		case t.Err == nil:
			b.WriteByte('<')
			t.Ok.write(b)
			b.WriteByte('>')
		default:
			b.WriteByte('<')
			t.Ok.write(b)
			b.WriteString(", ")
			t.Err.write(b)
			b.WriteByte('>')
		}
	case KindRecord:
		b.WriteString("record { ")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name)
			b.WriteString(": ")
			f.Type.write(b)
		}
		b.WriteString(" }")
	case KindVariant:
		b.WriteString("variant { ")
		for i, c := range t.Cases {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name)
			if c.Type != nil {
				b.WriteByte('(')
				c.Type.write(b)
				b.WriteByte(')')
			}
		}
		b.WriteString(" }")
	case KindEnum, KindFlags:
		b.WriteString(t.Kind.String())
		b.WriteString(" { ")
		b.WriteString(strings.Join(t.Labels, ", "))
		b.WriteString(" }")
	case KindOwn, KindBorrow:
		b.WriteString(t.Kind.String())
		b.WriteByte('<')
		if t.Resource != nil && t.Resource.Name != "" {
			b.WriteString(t.Resource.Name)
		} else {
			b.WriteString("resource")
		}
		b.WriteByte('>')
	default:
		b.WriteString(t.Kind.String())
	}
}

// Check says whether t is a type the Canonical ABI can represent: every
// kind known, every type pointer set (but payloads, which may be nil),
// records, tuples, variants, enums and flags not empty, at most [MaxFlags]
// flags, at most 2^32-1 cases, and a resource for every own and borrow. The
// other functions of the package assume their types passed Check.
func (t *Type) Check() error {
	if err := t.check(0); err != nil {
		return fmt.Errorf("cabi: type %s: %w", t, err)
	}
	return nil
}

// maxDepth bounds how deeply types nest, so that a type built from hostile
// input cannot exhaust the stack.
const maxDepth = 100

func (t *Type) check(depth int) error {
	if t == nil {
		return fmt.Errorf("missing type")
	}
	if depth > maxDepth {
		return fmt.Errorf("nested more than %d deep", maxDepth)
	}
	depth++
	switch t.Kind {
	case KindBool, KindS8, KindU8, KindS16, KindU16, KindS32, KindU32, KindS64, KindU64, KindF32, KindF64, KindChar, KindString:
		return nil
	case KindList, KindOption:
		return t.Elem.check(depth)
	case KindRecord:
		if len(t.Fields) == 0 {
			return fmt.Errorf("record without fields")
		}
		for _, f := range t.Fields {
			if err := f.Type.check(depth); err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
	case KindTuple:
		if len(t.Elems) == 0 {
			return fmt.Errorf("tuple without elements")
		}
		for i, e := range t.Elems {
			if err := e.check(depth); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	case KindVariant:
		if len(t.Cases) == 0 {
			return fmt.Errorf("variant without cases")
		}
		if uint64(len(t.Cases)) >= 1<<32 {
			return fmt.Errorf("variant with %d cases", len(t.Cases))
		}
		for _, c := range t.Cases {
			if c.Type == nil {
				continue
			}
			if err := c.Type.check(depth); err != nil {
				return fmt.Errorf("case %s: %w", c.Name, err)
			}
		}
	case KindEnum:
		if len(t.Labels) == 0 {
			return fmt.Errorf("enum without cases")
		}
		if uint64(len(t.Labels)) >= 1<<32 {
			return fmt.Errorf("enum with %d cases", len(t.Labels))
		}
	case KindResult:
		if t.Ok != nil {
			if err := t.Ok.check(depth); err != nil {
				return fmt.Errorf("ok: %w", err)
			}
		}
		if t.Err != nil {
			if err := t.Err.check(depth); err != nil {
				return fmt.Errorf("error: %w", err)
			}
		}
	case KindFlags:
		if len(t.Labels) == 0 {
			return fmt.Errorf("flags without labels")
		}
		if len(t.Labels) > MaxFlags {
			return fmt.Errorf("%d flags, more than %d", len(t.Labels), MaxFlags)
		}
	case KindOwn, KindBorrow:
		if t.Resource == nil {
			return fmt.Errorf("%s without a resource", t.Kind)
		}
	default:
		return fmt.Errorf("unknown kind %d", uint8(t.Kind))
	}
	return nil
}

// numCases is the number of cases of a variant-like type (variant, enum,
// option, result).
func numCases(t *Type) uint32 {
	switch t.Kind {
	case KindVariant:
		return uint32(len(t.Cases))
	case KindEnum:
		return uint32(len(t.Labels))
	default: // KindOption, KindResult
		return 2
	}
}

// caseType is the payload of case i of a variant-like type, nil for none.
func caseType(t *Type, i uint32) *Type {
	switch t.Kind {
	case KindVariant:
		return t.Cases[i].Type
	case KindOption:
		if i == 1 {
			return t.Elem
		}
		return nil
	case KindResult:
		if i == 0 {
			return t.Ok
		}
		return t.Err
	default: // KindEnum
		return nil
	}
}

// fieldCount is the number of fields of a record or tuple.
func fieldCount(t *Type) int {
	if t.Kind == KindRecord {
		return len(t.Fields)
	}
	return len(t.Elems)
}

// fieldType is field i of a record or tuple.
func fieldType(t *Type, i int) *Type {
	if t.Kind == KindRecord {
		return t.Fields[i].Type
	}
	return t.Elems[i]
}
