package cabi_test

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// A host import greet(name: string, n: u32) -> string, as a guest calls it:
// the core function takes the string's address and length, n, and the
// address to store the result at.
func ExampleFlatFunc() {
	params := []*cabi.Type{cabi.StringType, cabi.U32Type}
	results := []*cabi.Type{cabi.StringType}
	sig := cabi.FlatFunc(params, results, cabi.Lower)
	fmt.Println(sig, sig.ResultsSpilled)
	fmt.Println(sig.Matches([]api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil))
	// Output:
	// (i32, i32, i32, i32) -> () true
	// true
}

// The host side of greet: lift what the guest passed, lower the result to
// the return pointer it gave.
func ExampleLiftArgs() {
	mem := byteMemory(make([]byte, 64))
	copy(mem[16:], "wasm")
	heap := uint32(32)
	c := &cabi.Call{Ctx: context.Background(), Opts: &cabi.Options{
		Memory: mem,
		Realloc: func(_ context.Context, _, _, align, size uint32) (uint32, error) {
			p := (heap + align - 1) &^ (align - 1)
			heap = p + size
			return p, nil
		},
	}}
	core := []uint64{16, 4, 3, 8} // "wasm", 3, the return pointer 8
	args, err := cabi.LiftArgs(c, []*cabi.Type{cabi.StringType, cabi.U32Type}, core)
	fmt.Println(args, err)
	res, err := cabi.LowerResults(c, []*cabi.Type{cabi.StringType}, []any{"hello wasm"}, core)
	fmt.Println(res, err)
	s, err := cabi.Load(c, cabi.StringType, 8)
	fmt.Printf("%q %v\n", s, err)
	// Output:
	// [wasm 3] <nil>
	// [] <nil>
	// "hello wasm" <nil>
}
