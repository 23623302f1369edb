package cabi

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/api"
)

// The limits on flat signatures: beyond MaxFlatParams core parameters the
// parameters are passed in memory, beyond MaxFlatResults core results the
// results are.
const (
	MaxFlatParams  = 16
	MaxFlatResults = 1
)

// Size is the number of bytes a value of type t takes in linear memory (the
// specification's elem_size).
func Size(t *Type) uint32 {
	switch t.Kind {
	case KindBool, KindS8, KindU8:
		return 1
	case KindS16, KindU16:
		return 2
	case KindS32, KindU32, KindF32, KindChar, KindOwn, KindBorrow:
		return 4
	case KindS64, KindU64, KindF64, KindString, KindList:
		return 8
	case KindFlags:
		return flagsSize(t)
	case KindRecord, KindTuple, KindVariant, KindEnum, KindOption, KindResult:
		return layoutOf(t).size
	}
	return 0
}

// Align is the alignment in linear memory of a value of type t, in bytes.
func Align(t *Type) uint32 {
	switch t.Kind {
	case KindBool, KindS8, KindU8:
		return 1
	case KindS16, KindU16:
		return 2
	case KindS32, KindU32, KindF32, KindChar, KindOwn, KindBorrow, KindString, KindList:
		return 4
	case KindS64, KindU64, KindF64:
		return 8
	case KindFlags:
		return flagsSize(t)
	case KindRecord, KindTuple, KindVariant, KindEnum, KindOption, KindResult:
		return layoutOf(t).align
	}
	return 1
}

// layout is what a record, tuple or variant-like type's values look like,
// computed once per Type (see Type.layout).
type layout struct {
	size, align uint32
	payload     uint32 // variant-like: the offset of the payload
	flat        int    // the number of flat values
}

// The packing of a layout into Type.layout: a valid bit, log2 of the
// alignment, the payload offset, the flat count (flatUnknown when it does
// not fit) and the size.
const (
	layoutValid = 1
	flatBits    = 24
	flatUnknown = 1<<flatBits - 1
)

// layoutOf returns the layout of a record, tuple or variant-like type,
// computing it on first use. Concurrent first uses compute the same value
// and store it atomically.
func layoutOf(t *Type) layout {
	x := atomic.LoadUint64(&t.layout)
	if x == 0 {
		x = packLayout(computeLayout(t))
		atomic.StoreUint64(&t.layout, x)
	}
	l := layout{
		size:    uint32(x >> 32),
		align:   1 << (x >> 1 & 3),
		payload: uint32(x >> 4 & 15),
		flat:    int(x >> 8 & flatUnknown),
	}
	if l.flat == flatUnknown {
		l.flat = computeFlatLen(t)
	}
	return l
}

func packLayout(l layout) uint64 {
	x := uint64(l.size)<<32 | uint64(l.payload)<<4 | layoutValid
	for a := l.align; a > 1; a >>= 1 {
		x += 1 << 1
	}
	return x | uint64(min(l.flat, flatUnknown))<<8
}

func computeLayout(t *Type) layout {
	var l layout
	switch t.Kind {
	case KindRecord, KindTuple:
		l.align = 1
		for i, n := 0, fieldCount(t); i < n; i++ {
			f := fieldType(t, i)
			fa := Align(f)
			l.size = alignTo(l.size, fa) + Size(f)
			l.align = max(l.align, fa)
		}
		l.size = alignTo(l.size, l.align)
	default: // variant-like
		caseAlign := uint32(1)
		var caseSize uint32
		for i, n := uint32(0), numCases(t); i < n; i++ {
			if c := caseType(t, i); c != nil {
				caseAlign = max(caseAlign, Align(c))
				caseSize = max(caseSize, Size(c))
			}
		}
		d := discSize(t)
		l.payload = alignTo(d, caseAlign)
		l.align = max(d, caseAlign)
		l.size = alignTo(l.payload+caseSize, l.align)
	}
	l.flat = computeFlatLen(t)
	return l
}

// discSize is the size (and alignment) of a variant-like type's
// discriminant: the smallest of 1, 2 or 4 bytes that holds its case count.
func discSize(t *Type) uint32 {
	switch n := numCases(t); {
	case n <= 1<<8:
		return 1
	case n <= 1<<16:
		return 2
	default:
		return 4
	}
}

// payloadOffset is where a variant-like type's payload starts.
func payloadOffset(t *Type) uint32 {
	return layoutOf(t).payload
}

func flagsSize(t *Type) uint32 {
	switch n := len(t.Labels); {
	case n <= 8:
		return 1
	case n <= 16:
		return 2
	default:
		return 4
	}
}

func alignTo(p, a uint32) uint32 {
	return (p + a - 1) &^ (a - 1)
}

// tupleSize and tupleAlign lay out a list of types as one tuple, as
// parameters and results are when passed in memory.
func tupleSize(ts []*Type) uint32 {
	var s uint32
	for _, t := range ts {
		s = alignTo(s, Align(t)) + Size(t)
	}
	return alignTo(s, tupleAlign(ts))
}

func tupleAlign(ts []*Type) uint32 {
	a := uint32(1)
	for _, t := range ts {
		a = max(a, Align(t))
	}
	return a
}

// Flat returns the core value types a value of type t flattens to. The
// payloads of a variant share their slots, each slot of the join of the
// types the cases put there (i32 and f32 join to i32, anything else that
// differs to i64).
func Flat(t *Type) []api.ValueType {
	return appendFlat(nil, t)
}

func appendFlat(out []api.ValueType, t *Type) []api.ValueType {
	switch t.Kind {
	case KindBool, KindS8, KindU8, KindS16, KindU16, KindS32, KindU32, KindChar, KindFlags, KindEnum, KindOwn, KindBorrow:
		return append(out, api.ValueTypeI32)
	case KindS64, KindU64:
		return append(out, api.ValueTypeI64)
	case KindF32:
		return append(out, api.ValueTypeF32)
	case KindF64:
		return append(out, api.ValueTypeF64)
	case KindString, KindList:
		return append(out, api.ValueTypeI32, api.ValueTypeI32)
	case KindRecord, KindTuple:
		for i, n := 0, fieldCount(t); i < n; i++ {
			out = appendFlat(out, fieldType(t, i))
		}
		return out
	case KindVariant, KindOption, KindResult:
		out = append(out, api.ValueTypeI32)
		return append(out, variantPayloadFlat(t)...)
	}
	return out
}

// variantPayloadFlat is the joined flattening of a variant's payloads, the
// slots after its discriminant.
func variantPayloadFlat(t *Type) []api.ValueType {
	var flat []api.ValueType
	for i, n := uint32(0), numCases(t); i < n; i++ {
		c := caseType(t, i)
		if c == nil {
			continue
		}
		for j, ft := range Flat(c) {
			if j < len(flat) {
				flat[j] = join(flat[j], ft)
			} else {
				flat = append(flat, ft)
			}
		}
	}
	return flat
}

func join(a, b api.ValueType) api.ValueType {
	switch {
	case a == b:
		return a
	case a == api.ValueTypeI32 && b == api.ValueTypeF32, a == api.ValueTypeF32 && b == api.ValueTypeI32:
		return api.ValueTypeI32
	default:
		return api.ValueTypeI64
	}
}

// flatLen is len(Flat(t)), computed without building the slice.
func flatLen(t *Type) int {
	switch t.Kind {
	case KindString, KindList:
		return 2
	case KindRecord, KindTuple, KindVariant, KindOption, KindResult:
		return layoutOf(t).flat
	}
	return 1
}

func computeFlatLen(t *Type) int {
	n := 0
	switch t.Kind {
	case KindRecord, KindTuple:
		for i, c := 0, fieldCount(t); i < c; i++ {
			n += flatLen(fieldType(t, i))
		}
	case KindEnum:
		return 1
	default: // variant-like
		for i, c := uint32(0), numCases(t); i < c; i++ {
			if ct := caseType(t, i); ct != nil {
				n = max(n, flatLen(ct))
			}
		}
		n++
	}
	return n
}

// flatLenAll is the number of core values a list of types flattens to, up
// to limit+1 (enough to know it is beyond the limit).
func flatLenAll(ts []*Type, limit int) int {
	n := 0
	for _, t := range ts {
		n += flatLen(t)
		if n > limit {
			return n
		}
	}
	return n
}

// Direction says which way a function crosses the component boundary.
type Direction uint8

const (
	// Lift is a guest export called by the host (canon lift): the host
	// lowers the arguments into the guest and lifts its results.
	Lift Direction = iota
	// Lower is a host import called by the guest (canon lower): the host
	// lifts the guest's arguments and lowers the results back.
	Lower
)

// FlatSig is the core signature of a component function.
type FlatSig struct {
	Params  []api.ValueType
	Results []api.ValueType
	// ParamsSpilled: the parameters flatten to more than MaxFlatParams
	// values, so the core function takes one i32, the address of the
	// parameters stored as a tuple.
	ParamsSpilled bool
	// ResultsSpilled: the results flatten to more than MaxFlatResults
	// values, so they are stored as a tuple in memory. Lift: the core
	// function returns one i32, its address. Lower: the core function
	// takes a last i32 parameter, the address to store them at, and
	// returns nothing.
	ResultsSpilled bool
}

// FlatFunc returns the core signature of a function with these parameter
// and result types, called in direction dir (the specification's
// flatten_functype for synchronous functions).
func FlatFunc(params, results []*Type, dir Direction) FlatSig {
	var sig FlatSig
	if flatLenAll(params, MaxFlatParams) > MaxFlatParams {
		sig.Params = []api.ValueType{api.ValueTypeI32}
		sig.ParamsSpilled = true
	} else {
		for _, t := range params {
			sig.Params = appendFlat(sig.Params, t)
		}
	}
	if flatLenAll(results, MaxFlatResults) > MaxFlatResults {
		sig.ResultsSpilled = true
		if dir == Lift {
			sig.Results = []api.ValueType{api.ValueTypeI32}
		} else {
			sig.Params = append(sig.Params, api.ValueTypeI32)
		}
	} else {
		for _, t := range results {
			sig.Results = appendFlat(sig.Results, t)
		}
	}
	return sig
}

// Matches says whether a core function with these parameter and result
// types has the signature s.
func (s FlatSig) Matches(params, results []api.ValueType) bool {
	return string(params) == string(s.Params) && string(results) == string(s.Results)
}

// String returns the signature as "(i32, i32) -> (i32)".
func (s FlatSig) String() string {
	return valueTypes(s.Params) + " -> " + valueTypes(s.Results)
}

func valueTypes(ts []api.ValueType) string {
	b := []byte{'('}
	for i, t := range ts {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, api.ValueTypeName(t)...)
	}
	return string(append(b, ')'))
}
