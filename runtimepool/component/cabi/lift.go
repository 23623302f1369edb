package cabi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The limits on what a guest may hand over in one string or list, as in
// the specification (MAX_STRING_BYTE_LENGTH, MAX_LIST_BYTE_LENGTH).
const (
	MaxStringBytes = 1<<28 - 1
	MaxListBytes   = 1<<28 - 1
)

// MaxLiftBytes bounds what one call may lift into Go, unless its Options
// say otherwise: the bytes of its strings and, for its lists, their
// elements times the larger of their size and 16 (a Go interface value).
// Without it a guest could make the host allocate far more than its own
// memory, with lists whose elements all point at the same long list. The
// specification has no such limit; a call that reaches it is an error.
const MaxLiftBytes = 1 << 30

// The canonical NaNs floats are lifted and lowered as.
const (
	canonicalNaN32 = 0x7fc00000
	canonicalNaN64 = 0x7ff8000000000000
)

var le = binary.LittleEndian

// errTooFewValues is the error for a flat value list that ends early.
var errTooFewValues = errors.New("too few core values")

// lifter reads values out of a guest: its memory, fetched once, since no
// guest code runs while lifting.
type lifter struct {
	c      *Call
	mem    []byte
	got    bool
	lifted uint64 // against MaxLiftBytes
}

// charge counts n more bytes lifted.
func (l *lifter) charge(n uint64) error {
	limit := uint64(MaxLiftBytes)
	if l.c.Opts != nil && l.c.Opts.MaxLiftBytes != 0 {
		limit = l.c.Opts.MaxLiftBytes
	}
	l.lifted += n
	if l.lifted > limit {
		return fmt.Errorf("lifting more than %d bytes in one call", limit)
	}
	return nil
}

// label names a value in messages where there is no type to name it.
type label string

func (l label) String() string { return string(l) }

// memory returns the guest's memory, or an error saying that what needs it
// has none.
func (l *lifter) memory(what fmt.Stringer) ([]byte, error) {
	if l.got {
		return l.mem, nil
	}
	if l.c.Opts == nil || l.c.Opts.Memory == nil {
		return nil, fmt.Errorf("%s needs memory, and the function has none", what)
	}
	m := l.c.Opts.Memory
	buf, ok := m.Read(0, m.Size())
	if !ok {
		return nil, fmt.Errorf("memory of %d bytes cannot be read", m.Size())
	}
	l.mem, l.got = buf, true
	return buf, nil
}

// checkRange checks that size bytes at ptr, aligned to align, are inside
// the memory, for a value described by what.
func checkRange(mem []byte, what fmt.Stringer, ptr uint32, size uint64, align uint32) error {
	if ptr%align != 0 {
		return fmt.Errorf("%s at %#x is not aligned to %d", what, ptr, align)
	}
	if uint64(ptr)+size > uint64(len(mem)) {
		return fmt.Errorf("%s at %#x of %d bytes past memory end %d", what, ptr, size, len(mem))
	}
	return nil
}

// Load reads a value of type t stored at ptr in the call's memory.
func Load(c *Call, t *Type, ptr uint32) (any, error) {
	l := lifter{c: c}
	mem, err := l.memory(t)
	if err == nil {
		err = checkRange(mem, t, ptr, uint64(Size(t)), Align(t))
	}
	if err != nil {
		return nil, fmt.Errorf("cabi: %w", err)
	}
	v, err := l.load(t, ptr)
	if err != nil {
		return nil, fmt.Errorf("cabi: %w", err)
	}
	return v, nil
}

// load reads a value of type t at ptr, which is aligned and inside memory
// with all its Size(t) bytes.
func (l *lifter) load(t *Type, ptr uint32) (any, error) {
	m := l.mem
	switch t.Kind {
	case KindBool:
		return m[ptr] != 0, nil
	case KindS8:
		return int8(m[ptr]), nil
	case KindU8:
		return m[ptr], nil
	case KindS16:
		return int16(le.Uint16(m[ptr:])), nil
	case KindU16:
		return le.Uint16(m[ptr:]), nil
	case KindS32:
		return int32(le.Uint32(m[ptr:])), nil
	case KindU32:
		return le.Uint32(m[ptr:]), nil
	case KindS64:
		return int64(le.Uint64(m[ptr:])), nil
	case KindU64:
		return le.Uint64(m[ptr:]), nil
	case KindF32:
		return liftF32(le.Uint32(m[ptr:])), nil
	case KindF64:
		return liftF64(le.Uint64(m[ptr:])), nil
	case KindChar:
		return liftChar(le.Uint32(m[ptr:]))
	case KindString:
		return l.liftString(le.Uint32(m[ptr:]), le.Uint32(m[ptr+4:]))
	case KindList:
		return l.liftList(t, le.Uint32(m[ptr:]), le.Uint32(m[ptr+4:]))
	case KindRecord, KindTuple:
		n := fieldCount(t)
		vals := make([]any, n)
		off := ptr
		for i := range n {
			f := fieldType(t, i)
			off = alignTo(off, Align(f))
			v, err := l.load(f, off)
			if err != nil {
				return nil, err
			}
			vals[i] = v
			off += Size(f)
		}
		return vals, nil
	case KindVariant, KindEnum, KindOption, KindResult:
		var d uint32
		switch discSize(t) {
		case 1:
			d = uint32(m[ptr])
		case 2:
			d = uint32(le.Uint16(m[ptr:]))
		default:
			d = le.Uint32(m[ptr:])
		}
		if d >= numCases(t) {
			return nil, badCase(t, d)
		}
		var v any
		if ct := caseType(t, d); ct != nil {
			var err error
			if v, err = l.load(ct, ptr+payloadOffset(t)); err != nil {
				return nil, err
			}
		}
		return makeCase(t, d, v), nil
	case KindFlags:
		var bits uint32
		switch flagsSize(t) {
		case 1:
			bits = uint32(m[ptr])
		case 2:
			bits = uint32(le.Uint16(m[ptr:]))
		default:
			bits = le.Uint32(m[ptr:])
		}
		return bits & flagsMask(t), nil
	case KindOwn, KindBorrow:
		return l.liftHandle(t, le.Uint32(m[ptr:]))
	}
	return nil, fmt.Errorf("unknown kind %d", uint8(t.Kind))
}

func flagsMask(t *Type) uint32 {
	return uint32(1<<len(t.Labels) - 1)
}

func badCase(t *Type, d uint32) error {
	return fmt.Errorf("%s discriminant %d out of range (%d cases)", t, d, numCases(t))
}

// makeCase builds the Go value of case d of a variant-like type.
func makeCase(t *Type, d uint32, v any) any {
	switch t.Kind {
	case KindEnum:
		return d
	case KindOption:
		return Option{Some: d == 1, Value: v}
	case KindResult:
		return Result{Err: d == 1, Value: v}
	default:
		return Variant{Case: d, Value: v}
	}
}

func liftF32(bits uint32) float32 {
	f := math.Float32frombits(bits)
	if f != f {
		return math.Float32frombits(canonicalNaN32)
	}
	return f
}

func liftF64(bits uint64) float64 {
	f := math.Float64frombits(bits)
	if f != f {
		return math.Float64frombits(canonicalNaN64)
	}
	return f
}

func liftChar(i uint32) (rune, error) {
	if i >= 0x110000 || 0xd800 <= i && i <= 0xdfff {
		return 0, fmt.Errorf("char %#x is not a Unicode scalar value", i)
	}
	return rune(i), nil
}

func (l *lifter) liftHandle(t *Type, h uint32) (any, error) {
	if l.c.Handles == nil {
		return nil, fmt.Errorf("%s needs resource handles, and the call has none", t)
	}
	var v any
	var err error
	if t.Kind == KindOwn {
		v, err = l.c.Handles.LiftOwn(t.Resource, h)
	} else {
		v, err = l.c.Handles.LiftBorrow(t.Resource, h)
	}
	if err != nil {
		return nil, fmt.Errorf("%s handle %d: %w", t, h, err)
	}
	return v, nil
}

// liftList reads the n elements of a list of type t at ptr.
func (l *lifter) liftList(t *Type, ptr, n uint32) (any, error) {
	mem, err := l.memory(t)
	if err != nil {
		return nil, err
	}
	elem := t.Elem
	size := Size(elem)
	byteLen := uint64(n) * uint64(size)
	if byteLen > MaxListBytes {
		return nil, fmt.Errorf("%s at %#x of %d elements is %d bytes, more than %d", t, ptr, n, byteLen, MaxListBytes)
	}
	if err := checkRange(mem, t, ptr, byteLen, Align(elem)); err != nil {
		return nil, err
	}
	cost := byteLen
	if elem.Kind != KindU8 {
		cost = uint64(n) * uint64(max(size, 16))
	}
	if err := l.charge(cost); err != nil {
		return nil, err
	}
	if elem.Kind == KindU8 {
		b := make([]byte, n)
		copy(b, mem[ptr:])
		return b, nil
	}
	vals := make([]any, n)
	for i := range n {
		v, err := l.load(elem, ptr+i*size)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// LiftFlat lifts a value of type t from the flat core values at the front
// of *vals, and advances *vals past them.
func LiftFlat(c *Call, t *Type, vals *[]uint64) (any, error) {
	l := lifter{c: c}
	v, err := l.liftFlat(t, vals)
	if err != nil {
		return nil, fmt.Errorf("cabi: %w", err)
	}
	return v, nil
}

func (l *lifter) liftFlat(t *Type, vals *[]uint64) (any, error) {
	vs := *vals
	need := flatLen(t)
	if len(vs) < need {
		return nil, fmt.Errorf("%s: %w: %d of %d", t, errTooFewValues, len(vs), need)
	}
	v, err := l.liftFlatN(t, vs[:need])
	*vals = vs[need:]
	return v, err
}

// liftFlatN lifts a value of type t from vs, exactly flatLen(t) values.
func (l *lifter) liftFlatN(t *Type, vs []uint64) (any, error) {
	switch t.Kind {
	case KindBool:
		return uint32(vs[0]) != 0, nil
	case KindS8:
		return int8(vs[0]), nil
	case KindU8:
		return uint8(vs[0]), nil
	case KindS16:
		return int16(vs[0]), nil
	case KindU16:
		return uint16(vs[0]), nil
	case KindS32:
		return int32(vs[0]), nil
	case KindU32:
		return uint32(vs[0]), nil
	case KindS64:
		return int64(vs[0]), nil
	case KindU64:
		return vs[0], nil
	case KindF32:
		return liftF32(uint32(vs[0])), nil
	case KindF64:
		return liftF64(vs[0]), nil
	case KindChar:
		return liftChar(uint32(vs[0]))
	case KindString:
		if _, err := l.memory(t); err != nil {
			return nil, err
		}
		return l.liftString(uint32(vs[0]), uint32(vs[1]))
	case KindList:
		return l.liftList(t, uint32(vs[0]), uint32(vs[1]))
	case KindRecord, KindTuple:
		n := fieldCount(t)
		out := make([]any, n)
		for i := range n {
			f := fieldType(t, i)
			k := flatLen(f)
			v, err := l.liftFlatN(f, vs[:k])
			if err != nil {
				return nil, err
			}
			out[i] = v
			vs = vs[k:]
		}
		return out, nil
	case KindVariant, KindEnum, KindOption, KindResult:
		d := uint32(vs[0])
		if d >= numCases(t) {
			return nil, badCase(t, d)
		}
		var v any
		if ct := caseType(t, d); ct != nil {
			// The slots hold the joined types; a case narrower than its
			// slot (i32 in an i64, f32 in an i32) reads the low bits,
			// which is what lifting an i32 or f32 does anyway.
			var err error
			if v, err = l.liftFlatN(ct, vs[1:1+flatLen(ct)]); err != nil {
				return nil, err
			}
		}
		return makeCase(t, d, v), nil
	case KindFlags:
		return uint32(vs[0]) & flagsMask(t), nil
	case KindOwn, KindBorrow:
		return l.liftHandle(t, uint32(vs[0]))
	}
	return nil, fmt.Errorf("unknown kind %d", uint8(t.Kind))
}
