//go:build wasip1

package kv

import contract "github.com/wasmserve/wasmserve/abi/kv"

// Host functions of the wasmserve_kv module (docs/kv.md), whose signatures
// the contract's table (package abi/kv) gives. Strings are lowered to the
// (ptr i32, len i32) pairs of those signatures.

//go:wasmimport wasmserve_kv open
func open(name string) int32

//go:wasmimport wasmserve_kv get
func get(h int32, key string, buf *byte, limit uint32) int64

//go:wasmimport wasmserve_kv set
func set(h int32, key string, value *byte, n uint32, ttlMillis int64) int32

//go:wasmimport wasmserve_kv delete
func del(h int32, key string) int32

//go:wasmimport wasmserve_kv exists
func exists(h int32, key string) int32

//go:wasmimport wasmserve_kv keys
func keys(h int32, prefix string, cursor string, buf *byte, limit uint32) int64

//go:wasmimport wasmserve_kv increment
func increment(h int32, key string, delta int64, result *int64) int32

//go:wasmimport wasmserve_kv compare_and_swap
func compareAndSwap(h int32, key string, old *byte, oldLen uint32, value *byte, valueLen uint32, flags contract.Flags) int32

//go:wasmimport wasmserve_kv get_error
func getError(buf *byte, limit uint32) uint32
