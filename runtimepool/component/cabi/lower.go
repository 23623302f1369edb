package cabi

import (
	"context"
	"fmt"
	"math"
)

// lowerer writes values into a guest. Its view of the memory is fetched
// again after every realloc, which runs guest code that may grow (and so
// move) the memory.
type lowerer struct {
	c   *Call
	mem []byte
}

// needMemory fetches the guest's memory, or says that what needs it has
// none.
func (w *lowerer) needMemory(what fmt.Stringer) error {
	if w.mem != nil {
		return nil
	}
	if w.c.Opts == nil || w.c.Opts.Memory == nil {
		return fmt.Errorf("%s needs memory, and the function has none", what)
	}
	return w.refresh()
}

func (w *lowerer) refresh() error {
	m := w.c.Opts.Memory
	buf, ok := m.Read(0, m.Size())
	if !ok {
		return fmt.Errorf("memory of %d bytes cannot be read", m.Size())
	}
	w.mem = buf
	return nil
}

// alloc calls the guest's realloc and checks that what it returned is
// aligned and inside memory; what names the value, for messages.
func (w *lowerer) alloc(oldPtr, oldSize, align, newSize uint32, what fmt.Stringer) (uint32, error) {
	if w.c.Opts == nil || w.c.Opts.Realloc == nil {
		return 0, fmt.Errorf("%s needs realloc, and the function has none", what)
	}
	if w.c.Opts.Memory == nil {
		return 0, fmt.Errorf("%s needs memory, and the function has none", what)
	}
	ctx := w.c.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	p, err := w.c.Opts.Realloc(ctx, oldPtr, oldSize, align, newSize)
	if err != nil {
		return 0, fmt.Errorf("realloc of %d bytes for %s: %w", newSize, what, err)
	}
	if err := w.refresh(); err != nil {
		return 0, err
	}
	if p%align != 0 {
		return 0, fmt.Errorf("realloc of %d bytes for %s returned %#x, not aligned to %d", newSize, what, p, align)
	}
	if uint64(p)+uint64(newSize) > uint64(len(w.mem)) {
		return 0, fmt.Errorf("realloc of %d bytes for %s returned %#x, past memory end %d", newSize, what, p, len(w.mem))
	}
	return p, nil
}

// Store writes v, a value of type t, at ptr in the call's memory,
// allocating what its strings and lists need with the guest's realloc.
func Store(c *Call, t *Type, v any, ptr uint32) error {
	w := lowerer{c: c}
	err := w.needMemory(t)
	if err == nil {
		err = checkRange(w.mem, t, ptr, uint64(Size(t)), Align(t))
	}
	if err == nil {
		err = w.store(t, v, ptr)
	}
	if err != nil {
		return fmt.Errorf("cabi: %w", err)
	}
	return nil
}

// store writes v at ptr, which is aligned and inside memory with all its
// Size(t) bytes (memory only grows, so it stays inside).
func (w *lowerer) store(t *Type, v any, ptr uint32) error {
	switch t.Kind {
	case KindBool, KindS8, KindU8, KindS16, KindU16, KindS32, KindU32, KindChar, KindFlags, KindEnum, KindF32:
		x, err := w.lowerI32(t, v)
		if err != nil {
			return err
		}
		switch Size(t) {
		case 1:
			w.mem[ptr] = byte(x)
		case 2:
			le.PutUint16(w.mem[ptr:], uint16(x))
		default:
			le.PutUint32(w.mem[ptr:], x)
		}
		return nil
	case KindS64, KindU64, KindF64:
		x, err := lowerI64(t, v)
		if err != nil {
			return err
		}
		le.PutUint64(w.mem[ptr:], x)
		return nil
	case KindOwn, KindBorrow:
		h, err := w.lowerHandle(t, v)
		if err != nil {
			return err
		}
		le.PutUint32(w.mem[ptr:], h)
		return nil
	case KindString:
		s, ok := v.(string)
		if !ok {
			return wrongType(t, v, "string")
		}
		p, n, err := w.storeString(s)
		if err != nil {
			return err
		}
		le.PutUint32(w.mem[ptr:], p)
		le.PutUint32(w.mem[ptr+4:], n)
		return nil
	case KindList:
		p, n, err := w.storeList(t, v)
		if err != nil {
			return err
		}
		le.PutUint32(w.mem[ptr:], p)
		le.PutUint32(w.mem[ptr+4:], n)
		return nil
	case KindRecord, KindTuple:
		vals, err := fieldValues(t, v)
		if err != nil {
			return err
		}
		off := ptr
		for i, x := range vals {
			f := fieldType(t, i)
			off = alignTo(off, Align(f))
			if err := w.store(f, x, off); err != nil {
				return err
			}
			off += Size(f)
		}
		return nil
	case KindVariant, KindOption, KindResult:
		d, payload, err := caseOf(t, v)
		if err != nil {
			return err
		}
		switch discSize(t) {
		case 1:
			w.mem[ptr] = byte(d)
		case 2:
			le.PutUint16(w.mem[ptr:], uint16(d))
		default:
			le.PutUint32(w.mem[ptr:], d)
		}
		if ct := caseType(t, d); ct != nil {
			return w.store(ct, payload, ptr+payloadOffset(t))
		}
		return nil
	}
	return fmt.Errorf("unknown kind %d", uint8(t.Kind))
}

// wrongType is the error for a Go value not of the type a kind maps to.
func wrongType(t *Type, v any, want string) error {
	return fmt.Errorf("%s value is %T, want %s", t, v, want)
}

// lowerI32 converts a value of a kind that flattens to one i32 (or f32) to
// its 32 bits.
func (w *lowerer) lowerI32(t *Type, v any) (uint32, error) {
	switch t.Kind {
	case KindBool:
		if x, ok := v.(bool); ok {
			if x {
				return 1, nil
			}
			return 0, nil
		}
		return 0, wrongType(t, v, "bool")
	case KindS8:
		if x, ok := v.(int8); ok {
			return uint32(int32(x)), nil
		}
		return 0, wrongType(t, v, "int8")
	case KindU8:
		if x, ok := v.(uint8); ok {
			return uint32(x), nil
		}
		return 0, wrongType(t, v, "uint8")
	case KindS16:
		if x, ok := v.(int16); ok {
			return uint32(int32(x)), nil
		}
		return 0, wrongType(t, v, "int16")
	case KindU16:
		if x, ok := v.(uint16); ok {
			return uint32(x), nil
		}
		return 0, wrongType(t, v, "uint16")
	case KindS32:
		if x, ok := v.(int32); ok {
			return uint32(x), nil
		}
		return 0, wrongType(t, v, "int32")
	case KindU32:
		if x, ok := v.(uint32); ok {
			return x, nil
		}
		return 0, wrongType(t, v, "uint32")
	case KindF32:
		if x, ok := v.(float32); ok {
			if x != x {
				return canonicalNaN32, nil
			}
			return math.Float32bits(x), nil
		}
		return 0, wrongType(t, v, "float32")
	case KindChar:
		r, ok := v.(rune)
		if !ok {
			return 0, wrongType(t, v, "rune")
		}
		if r < 0 || r > 0x10ffff || 0xd800 <= r && r <= 0xdfff {
			return 0, fmt.Errorf("char %#x is not a Unicode scalar value", r)
		}
		return uint32(r), nil
	case KindEnum:
		x, ok := v.(uint32)
		if !ok {
			return 0, wrongType(t, v, "uint32")
		}
		if x >= numCases(t) {
			return 0, badCase(t, x)
		}
		return x, nil
	case KindFlags:
		x, ok := v.(uint32)
		if !ok {
			return 0, wrongType(t, v, "uint32")
		}
		if x&^flagsMask(t) != 0 {
			return 0, fmt.Errorf("%s value %#x has bits past its %d labels", t, x, len(t.Labels))
		}
		return x, nil
	}
	return 0, fmt.Errorf("%s is not a 32-bit kind", t)
}

// lowerI64 converts a value of a kind that flattens to one i64 (or f64) to
// its 64 bits.
func lowerI64(t *Type, v any) (uint64, error) {
	switch t.Kind {
	case KindS64:
		if x, ok := v.(int64); ok {
			return uint64(x), nil
		}
		return 0, wrongType(t, v, "int64")
	case KindU64:
		if x, ok := v.(uint64); ok {
			return x, nil
		}
		return 0, wrongType(t, v, "uint64")
	case KindF64:
		if x, ok := v.(float64); ok {
			if x != x {
				return canonicalNaN64, nil
			}
			return math.Float64bits(x), nil
		}
		return 0, wrongType(t, v, "float64")
	}
	return 0, fmt.Errorf("%s is not a 64-bit kind", t)
}

func (w *lowerer) lowerHandle(t *Type, v any) (uint32, error) {
	if w.c.Handles == nil {
		return 0, fmt.Errorf("%s needs resource handles, and the call has none", t)
	}
	var h uint32
	var err error
	if t.Kind == KindOwn {
		h, err = w.c.Handles.LowerOwn(t.Resource, v)
	} else {
		h, err = w.c.Handles.LowerBorrow(t.Resource, v)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", t, err)
	}
	return h, nil
}

// fieldValues returns the field values of a record or tuple value.
func fieldValues(t *Type, v any) ([]any, error) {
	vals, ok := v.([]any)
	if !ok {
		return nil, wrongType(t, v, "[]any")
	}
	if n := fieldCount(t); len(vals) != n {
		return nil, fmt.Errorf("%s value has %d fields, want %d", t, len(vals), n)
	}
	return vals, nil
}

// caseOf returns the case index and payload of a variant, option or result
// value.
func caseOf(t *Type, v any) (uint32, any, error) {
	var d uint32
	var payload any
	switch t.Kind {
	case KindVariant:
		x, ok := v.(Variant)
		if !ok {
			return 0, nil, wrongType(t, v, "cabi.Variant")
		}
		d, payload = x.Case, x.Value
		if d >= numCases(t) {
			return 0, nil, badCase(t, d)
		}
	case KindOption:
		x, ok := v.(Option)
		if !ok {
			return 0, nil, wrongType(t, v, "cabi.Option")
		}
		if x.Some {
			d = 1
		}
		payload = x.Value
	case KindResult:
		x, ok := v.(Result)
		if !ok {
			return 0, nil, wrongType(t, v, "cabi.Result")
		}
		if x.Err {
			d = 1
		}
		payload = x.Value
	}
	if payload != nil && caseType(t, d) == nil {
		return 0, nil, fmt.Errorf("%s case %d has no payload, the value has a %T", t, d, payload)
	}
	return d, payload, nil
}

// listLen returns the length of a list value, checking its Go type.
func listLen(t *Type, v any) (int, error) {
	switch x := v.(type) {
	case []byte:
		if t.Elem.Kind == KindU8 {
			return len(x), nil
		}
	case []any:
		return len(x), nil
	}
	if t.Elem.Kind == KindU8 {
		return 0, wrongType(t, v, "[]byte")
	}
	return 0, wrongType(t, v, "[]any")
}

// storeList copies a list into newly allocated guest memory and returns its
// address and length.
func (w *lowerer) storeList(t *Type, v any) (uint32, uint32, error) {
	n, err := listLen(t, v)
	if err != nil {
		return 0, 0, err
	}
	elem := t.Elem
	size := Size(elem)
	byteLen := uint64(n) * uint64(size)
	if byteLen > MaxListBytes {
		return 0, 0, fmt.Errorf("%s of %d elements is %d bytes, more than %d", t, n, byteLen, MaxListBytes)
	}
	if err := w.needMemory(t); err != nil {
		return 0, 0, err
	}
	p, err := w.alloc(0, 0, Align(elem), uint32(byteLen), t)
	if err != nil {
		return 0, 0, err
	}
	if b, ok := v.([]byte); ok {
		copy(w.mem[p:], b)
		return p, uint32(n), nil
	}
	for i, x := range v.([]any) {
		if err := w.store(elem, x, p+uint32(i)*size); err != nil {
			return 0, 0, err
		}
	}
	return p, uint32(n), nil
}

// LowerFlat lowers v, a value of type t, to flat core values appended to
// out, allocating what its strings and lists need with the guest's realloc.
func LowerFlat(c *Call, t *Type, v any, out []uint64) ([]uint64, error) {
	w := lowerer{c: c}
	out, err := w.lowerFlat(t, v, out)
	if err != nil {
		return nil, fmt.Errorf("cabi: %w", err)
	}
	return out, nil
}

func (w *lowerer) lowerFlat(t *Type, v any, out []uint64) ([]uint64, error) {
	switch t.Kind {
	case KindBool, KindS8, KindU8, KindS16, KindU16, KindS32, KindU32, KindChar, KindFlags, KindEnum, KindF32:
		x, err := w.lowerI32(t, v)
		return append(out, uint64(x)), err
	case KindS64, KindU64, KindF64:
		x, err := lowerI64(t, v)
		return append(out, x), err
	case KindOwn, KindBorrow:
		h, err := w.lowerHandle(t, v)
		return append(out, uint64(h)), err
	case KindString:
		s, ok := v.(string)
		if !ok {
			return out, wrongType(t, v, "string")
		}
		p, n, err := w.storeString(s)
		return append(out, uint64(p), uint64(n)), err
	case KindList:
		p, n, err := w.storeList(t, v)
		return append(out, uint64(p), uint64(n)), err
	case KindRecord, KindTuple:
		vals, err := fieldValues(t, v)
		if err != nil {
			return out, err
		}
		for i, x := range vals {
			if out, err = w.lowerFlat(fieldType(t, i), x, out); err != nil {
				return out, err
			}
		}
		return out, nil
	case KindVariant, KindOption, KindResult:
		d, payload, err := caseOf(t, v)
		if err != nil {
			return out, err
		}
		end := len(out) + flatLen(t)
		out = append(out, uint64(d))
		if ct := caseType(t, d); ct != nil {
			// Every core value is zero-extended to 64 bits and a float
			// is its bits, so a payload narrower than its joined slot
			// needs no conversion.
			if out, err = w.lowerFlat(ct, payload, out); err != nil {
				return out, err
			}
		}
		for len(out) < end {
			out = append(out, 0)
		}
		return out, nil
	}
	return out, fmt.Errorf("unknown kind %d", uint8(t.Kind))
}
