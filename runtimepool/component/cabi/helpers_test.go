package cabi

import (
	"context"
	"fmt"
	"math"
	"reflect"
)

// sliceMemory is a linear memory made of a byte slice.
type sliceMemory struct{ b []byte }

func (m *sliceMemory) Size() uint32 { return uint32(len(m.b)) }

func (m *sliceMemory) Read(off, n uint32) ([]byte, bool) {
	if uint64(off)+uint64(n) > uint64(len(m.b)) {
		return nil, false
	}
	return m.b[off : off+n : off+n], true
}

// reallocCall is one call of a heap's realloc.
type reallocCall struct{ old, oldSize, align, newSize, ret uint32 }

// heap is the bump allocator of the specification's tests: shrinking a
// block (not at 0) keeps it, anything else takes a new block past the last
// one and copies the old contents.
type heap struct {
	mem   sliceMemory
	last  uint32
	calls []reallocCall
}

func newHeap(size int) *heap { return &heap{mem: sliceMemory{b: make([]byte, size)}} }

func (h *heap) realloc(_ context.Context, old, oldSize, align, newSize uint32) (uint32, error) {
	if old != 0 && newSize < oldSize {
		ret := alignTo(old, align)
		h.calls = append(h.calls, reallocCall{old, oldSize, align, newSize, ret})
		return ret, nil
	}
	ret := alignTo(h.last, align)
	if uint64(ret)+uint64(newSize) > uint64(len(h.mem.b)) {
		return 0, fmt.Errorf("heap of %d bytes exhausted", len(h.mem.b))
	}
	h.last = ret + newSize
	n := min(oldSize, newSize)
	copy(h.mem.b[ret:ret+n], h.mem.b[old:old+n])
	h.calls = append(h.calls, reallocCall{old, oldSize, align, newSize, ret})
	return ret, nil
}

// call returns a Call on the heap's memory and realloc.
func (h *heap) call(enc StringEncoding) *Call {
	return &Call{Ctx: context.Background(), Opts: &Options{Encoding: enc, Memory: &h.mem, Realloc: h.realloc}}
}

// memCall returns a Call on memory b, without realloc.
func memCall(b []byte, enc StringEncoding) *Call {
	return &Call{Ctx: context.Background(), Opts: &Options{Encoding: enc, Memory: &sliceMemory{b: b}}}
}

// equalValues compares Go values of the package, a NaN equal to a NaN.
func equalValues(a, b any) bool { return compareValues(a, b, false) }

// sameBits compares values like equalValues, but floats by their bits, so
// that a NaN must be the canonical one.
func sameBits(a, b any) bool { return compareValues(a, b, true) }

func compareValues(a, b any, bits bool) bool {
	switch x := a.(type) {
	case float32:
		y, ok := b.(float32)
		if bits {
			return ok && math.Float32bits(x) == math.Float32bits(y)
		}
		return ok && (x == y || x != x && y != y)
	case float64:
		y, ok := b.(float64)
		if bits {
			return ok && math.Float64bits(x) == math.Float64bits(y)
		}
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !compareValues(x[i], y[i], bits) {
				return false
			}
		}
		return true
	case Variant:
		y, ok := b.(Variant)
		return ok && x.Case == y.Case && compareValues(x.Value, y.Value, bits)
	case Option:
		y, ok := b.(Option)
		return ok && x.Some == y.Some && compareValues(x.Value, y.Value, bits)
	case Result:
		y, ok := b.(Result)
		return ok && x.Err == y.Err && compareValues(x.Value, y.Value, bits)
	}
	return reflect.DeepEqual(a, b)
}

// handles is a resource table for tests: lowering puts values in slots,
// lifting takes them out, each with its resource type.
type handles struct {
	slots map[uint32]handleSlot
	next  uint32
}

type handleSlot struct {
	r     *Resource
	v     any
	owned bool
}

func newHandles() *handles { return &handles{slots: map[uint32]handleSlot{}, next: 1} }

func (h *handles) add(r *Resource, v any, owned bool) uint32 {
	i := h.next
	h.next++
	h.slots[i] = handleSlot{r, v, owned}
	return i
}

func (h *handles) LowerOwn(r *Resource, v any) (uint32, error) { return h.add(r, v, true), nil }

func (h *handles) LowerBorrow(r *Resource, v any) (uint32, error) { return h.add(r, v, false), nil }

func (h *handles) get(r *Resource, i uint32) (handleSlot, error) {
	s, ok := h.slots[i]
	if !ok {
		return s, fmt.Errorf("no handle %d", i)
	}
	if s.r != r {
		return s, fmt.Errorf("handle %d is a %s, not a %s", i, s.r.Name, r.Name)
	}
	return s, nil
}

func (h *handles) LiftOwn(r *Resource, i uint32) (any, error) {
	s, err := h.get(r, i)
	if err != nil {
		return nil, err
	}
	if !s.owned {
		return nil, fmt.Errorf("handle %d is borrowed", i)
	}
	delete(h.slots, i)
	return s.v, nil
}

func (h *handles) LiftBorrow(r *Resource, i uint32) (any, error) {
	s, err := h.get(r, i)
	if err != nil {
		return nil, err
	}
	return s.v, nil
}
