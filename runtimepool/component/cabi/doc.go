// Package cabi is the Canonical ABI of the WebAssembly component model: how
// a component-model value crosses between Go and a core module's flat
// parameters, results and linear memory.
//
// The linker calls it whenever a value crosses the component boundary. When
// a guest calls a host import (canon lower), [LiftArgs] reads the guest's
// core arguments into Go values and [LowerResults] writes the host's results
// back. When the host calls a guest export (canon lift), [LowerArgs] turns Go
// values into core arguments (allocating in the guest through its realloc)
// and [LiftResults] reads the core results, before the linker runs the
// export's post-return. [FlatFunc] gives the core signature both sides must
// have. [Load], [Store], [LiftFlat] and [LowerFlat] work on one value.
//
// # Go values
//
// A value of a [Type] is a Go value of one dynamic type per kind:
//
//	bool                   bool
//	s8 u8 s16 u16          int8 uint8 int16 uint16
//	s32 u32 s64 u64        int32 uint32 int64 uint64
//	f32 f64                float32 float64
//	char                   rune
//	string                 string (valid UTF-8)
//	list<u8>               []byte ([]any of uint8 is accepted when lowering)
//	list<T>                []any
//	record, tuple          []any, one element per field, in order
//	variant                Variant{Case, Value}
//	enum                   uint32, the case's index
//	option<T>              Option{Some, Value}
//	result<T, E>           Result{Err, Value}
//	flags                  uint32, label i is bit i
//	own<R>, borrow<R>      what the call's [Handles] returns and accepts
//
// A case, option or result without a payload has a nil Value. Lowering a
// value of the wrong Go type, a non-nil Value where there is no payload, a char that is a surrogate or past U+10FFFF, a
// string that is not valid UTF-8, or flags with bits past the last label is
// an error.
//
// # Core values
//
// Flat values are uint64s as wazero's api.Function.Call takes and returns
// them: an i32 in the low 32 bits (the high bits are ignored when lifting
// and zero when lowering), an i64 whole, an f32 as its IEEE bits in the low
// 32 bits (api.EncodeF32), an f64 as its bits (api.EncodeF64).
//
// # Checks
//
// Everything the guest hands over is checked as the specification says, and
// a failed check is an error naming the value, its address and the limit it
// broke; the linker turns it into a trap of the call. Nothing the guest can
// write makes this package panic. In particular: every memory access is
// bounds-checked, pointers must be aligned for their type, a bool is any
// non-zero byte, integers narrower than their core type are wrapped, a char
// must be a Unicode scalar value, discriminants must name a case, strings
// must decode in the call's encoding and be at most [MaxStringBytes] bytes,
// lists at most [MaxListBytes] bytes, and one call lifts at most
// [MaxLiftBytes] (a limit of the host, not of the specification). NaNs are canonicalised both ways
// (0x7fc00000, 0x7ff8000000000000), the deterministic profile of the
// specification.
//
// Types must be valid ([Type.Check]) before they are used with the other
// functions, which do not check them again.
package cabi
