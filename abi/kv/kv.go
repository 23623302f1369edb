// Package kv is the contract of wasmserve_kv, wasmserve's import module
// that gives guests key-value stores: its names, flags, limits and error
// codes, and the table of its host functions with their signatures
// ([Functions]). docs/kv.md is its specification.
//
// keys returns [abi.EncodeCountLen]. A function with an i32 result returns
// a negative [Code] when it fails; get and keys, whose result is an i64,
// return the code sign-extended.
//
// Like package abi it depends only on the standard library, so that the
// host side (host/ext/kv) and the Go SDK (abi/guest/kv) share it.
package kv

import (
	"strconv"
	"unicode/utf8"

	"github.com/wasmserve/wasmserve/abi"
)

// ModuleName is the import module of the key-value host functions.
const ModuleName = "wasmserve_kv"

// Names of the host functions in [ModuleName], in the order of
// [Functions], which gives their signatures.
const (
	FuncOpen           = "open"
	FuncGet            = "get"
	FuncSet            = "set"
	FuncDelete         = "delete"
	FuncExists         = "exists"
	FuncKeys           = "keys"
	FuncIncrement      = "increment"
	FuncCompareAndSwap = "compare_and_swap"
	FuncGetError       = "get_error"
)

// Functions is the wasmserve_kv import module: every host function of
// [ModuleName] with its signature. A host defines exactly these; a guest
// may import any of them.
var Functions = abi.Table{
	// open(name, name_len) -> store handle or code
	{Name: FuncOpen, Signature: abi.Signature{Params: types{i32, i32}, Results: types{i32}}},
	// get(store, key, key_len, buf, buf_limit) -> value length or code
	{Name: FuncGet, Signature: abi.Signature{Params: types{i32, i32, i32, i32, i32}, Results: types{i64}}},
	// set(store, key, key_len, value, value_len, ttl_ms) -> 0 or code
	{Name: FuncSet, Signature: abi.Signature{Params: types{i32, i32, i32, i32, i32, i64}, Results: types{i32}}},
	// delete(store, key, key_len) -> 1 deleted, 0 absent, or code
	{Name: FuncDelete, Signature: abi.Signature{Params: types{i32, i32, i32}, Results: types{i32}}},
	// exists(store, key, key_len) -> 1, 0 or code
	{Name: FuncExists, Signature: abi.Signature{Params: types{i32, i32, i32}, Results: types{i32}}},
	// keys(store, prefix, prefix_len, cursor, cursor_len, buf, buf_limit) -> count<<32|len or code
	{Name: FuncKeys, Signature: abi.Signature{Params: types{i32, i32, i32, i32, i32, i32, i32}, Results: types{i64}}},
	// increment(store, key, key_len, delta, result_ptr) -> 0 or code
	{Name: FuncIncrement, Signature: abi.Signature{Params: types{i32, i32, i32, i64, i32}, Results: types{i32}}},
	// compare_and_swap(store, key, key_len, old, old_len, new, new_len, flags) -> 1 swapped, 0 not, or code
	{Name: FuncCompareAndSwap, Signature: abi.Signature{Params: types{i32, i32, i32, i32, i32, i32, i32, i32}, Results: types{i32}}},
	// get_error(buf, buf_limit) -> length of the last error's message
	{Name: FuncGetError, Signature: abi.Signature{Params: types{i32, i32}, Results: types{i32}}},
}

// types and the two value types shorten the table.
type types = []abi.ValueType

const (
	i32 = abi.I32
	i64 = abi.I64
)

// Flags are the options of compare_and_swap.
type Flags uint32

// The flags of compare_and_swap.
const (
	// FlagOldAbsent swaps only when the key is absent: the old value's
	// pointer and length are ignored.
	FlagOldAbsent Flags = 1 << 0
)

// Limits of keys and pages. The largest value is the host's
// configuration (1 MiB unless the server says otherwise).
const (
	// MaxKeyLen is the longest key, and the longest prefix, in bytes.
	MaxKeyLen = 255
	// PageSize is the most keys one call of keys returns.
	PageSize = 100
)

// ValidKey says why key is not a valid key: empty, longer than
// [MaxKeyLen] bytes, not UTF-8, or holding a NUL (which separates keys in
// a page of keys). Empty when it is valid.
func ValidKey(key []byte) string {
	switch {
	case len(key) == 0:
		return "empty key"
	case len(key) > MaxKeyLen:
		return "key of " + strconv.Itoa(len(key)) + " bytes, over " + strconv.Itoa(MaxKeyLen)
	case !utf8.Valid(key):
		return "key is not UTF-8"
	}
	for _, b := range key {
		if b == 0 {
			return "key holds a NUL byte"
		}
	}
	return ""
}

// Code is a negative result of a host function: why the call failed. The
// guest can read the detail with get_error.
type Code int32

// The error codes. Every one is negative, so that a handle, a length or a
// count (never negative) cannot be mistaken for one.
const (
	// CodeNotFound: get found no value under the key.
	CodeNotFound Code = -1
	// CodeNoStore: open named a store the server does not configure.
	CodeNoStore Code = -2
	// CodeInvalid: an invalid key, prefix, cursor, TTL or flags.
	CodeInvalid Code = -3
	// CodeTooBig: the value is over the server's largest value.
	CodeTooBig Code = -4
	// CodeQuota: the store holds as many keys as it may.
	CodeQuota Code = -5
	// CodeHandle: no store was opened with this handle.
	CodeHandle Code = -6
	// CodeNotNumber: increment found a value that is not a decimal
	// 64-bit integer, or the sum overflows.
	CodeNotNumber Code = -7
	// CodeUnavailable: the store failed: its server is unreachable, its
	// file cannot be written.
	CodeUnavailable Code = -8
	// CodeTimeout: the operation's deadline passed (the store's timeout,
	// or what was left of the handler timeout).
	CodeTimeout Code = -9
	// CodeNoRequest: no request is in flight (a start function may only
	// open stores).
	CodeNoRequest Code = -10
)

// String names the code as docs/kv.md does ("not found", "no store"), or
// "code(-12)" for a code this version does not know.
func (c Code) String() string {
	switch c {
	case CodeNotFound:
		return "not found"
	case CodeNoStore:
		return "no store"
	case CodeInvalid:
		return "invalid"
	case CodeTooBig:
		return "too big"
	case CodeQuota:
		return "quota"
	case CodeHandle:
		return "handle"
	case CodeNotNumber:
		return "not a number"
	case CodeUnavailable:
		return "unavailable"
	case CodeTimeout:
		return "timeout"
	case CodeNoRequest:
		return "no request"
	}
	return "code(" + strconv.Itoa(int(c)) + ")"
}
