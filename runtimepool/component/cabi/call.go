package cabi

import (
	"context"
)

// Variant is the Go value of a variant: the index of its case and the
// case's payload, nil for a case without one.
type Variant struct {
	Case  uint32
	Value any
}

// Option is the Go value of an option: Some says whether there is a value.
type Option struct {
	Some  bool
	Value any
}

// Result is the Go value of a result: Err says whether it is the error
// case; Value is that case's payload, nil for none.
type Result struct {
	Err   bool
	Value any
}

// Memory is a guest's linear memory; wazero's api.Memory satisfies it.
// Read must return a view of the memory, not a copy: the package stores
// values by writing into what Read returns.
type Memory interface {
	// Size is the memory's size in bytes.
	Size() uint32
	// Read returns byteCount bytes at offset, or false when they are not
	// all inside the memory.
	Read(offset, byteCount uint32) ([]byte, bool)
}

// StringEncoding is the string encoding of a canonical function (its
// string-encoding option).
type StringEncoding uint8

// The string encodings.
const (
	UTF8 StringEncoding = iota
	UTF16
	// Latin1UTF16 is "latin1+utf16": each string is Latin-1 or UTF-16, the
	// top bit of its length saying which.
	Latin1UTF16
)

// String returns the encoding's name in the component model.
func (e StringEncoding) String() string {
	switch e {
	case UTF8:
		return "utf8"
	case UTF16:
		return "utf16"
	case Latin1UTF16:
		return "latin1+utf16"
	}
	return "unknown encoding"
}

// Realloc is a guest's cabi_realloc: it reallocates oldSize bytes at oldPtr
// (0 and 0 for a new allocation) to newSize bytes aligned to align, and
// returns their address. An error (a trap) ends the call.
type Realloc func(ctx context.Context, oldPtr, oldSize, align, newSize uint32) (uint32, error)

// Options are the canonical options of a function.
type Options struct {
	Encoding StringEncoding
	// Memory is nil when the function declared none; then a value that
	// needs memory is an error.
	Memory Memory
	// Realloc is nil when the function declared none; then lowering a
	// value that needs allocating is an error.
	Realloc Realloc
	// MaxLiftBytes bounds what one call lifts into Go (see the package
	// constant); zero means [MaxLiftBytes].
	MaxLiftBytes uint64
}

// Handles are the resource handle tables of the guest the call crosses
// into or out of, implemented by the linker. The package calls them for
// every own and borrow it lifts or lowers.
type Handles interface {
	// LowerOwn puts a host value in a new handle of the guest's table,
	// owned by the guest, and returns the handle.
	LowerOwn(r *Resource, v any) (uint32, error)
	// LowerBorrow puts a host value in a borrowed handle, valid for the
	// call.
	LowerBorrow(r *Resource, v any) (uint32, error)
	// LiftOwn takes an owned handle of resource type r out of the guest's
	// table and returns its value; a handle of another type, or lent out,
	// is an error.
	LiftOwn(r *Resource, h uint32) (any, error)
	// LiftBorrow returns the value of a handle of resource type r the guest
	// lends for the call.
	LiftBorrow(r *Resource, h uint32) (any, error)
}

// Call is the context of one canonical call: everything lifting and
// lowering needs besides the types and values. A Call is used by one
// goroutine at a time.
type Call struct {
	Ctx     context.Context
	Opts    *Options
	Handles Handles // nil when no value of the call holds a resource
}
