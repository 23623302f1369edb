// Package outbound is the contract of wasmserve_http, wasmserve's import
// module for a guest's outbound HTTP calls: its names, request flags and
// error codes, and the table of its host functions with their signatures
// ([Functions]). docs/outbound.md is its specification.
//
// Its packed results are those of http_handler: get_headers returns
// [abi.EncodeCountLen] and read_body [abi.EncodeEOFLen]. Any other failure
// is a negative [Code], sign-extended in an i64 result.
//
// Like package abi it depends only on the standard library, so that the
// host side (host/ext/outbound) and the Go SDK (abi/guest/outbound) share it.
// It is a package of its own, beside abi, because wasmserve_http is
// wasmserve's extension, not part of the http-wasm ABI, and two of its
// function names (read_body, write_body) are http_handler's too.
package outbound

import (
	"strconv"

	"github.com/wasmserve/wasmserve/abi"
)

// ModuleName is the import module of the outbound host functions.
const ModuleName = "wasmserve_http"

// Names of the host functions in [ModuleName], in the order of
// [Functions], which gives their signatures.
const (
	FuncRequest    = "request"
	FuncAddHeader  = "add_header"
	FuncWriteBody  = "write_body"
	FuncSend       = "send"
	FuncGetHeaders = "get_headers"
	FuncReadBody   = "read_body"
	FuncClose      = "close"
	FuncGetError   = "get_error"
)

// Functions is the wasmserve_http import module: every host function of
// [ModuleName] with its signature. A host defines exactly these; a guest
// may import any of them.
var Functions = abi.Table{
	{Name: FuncRequest, Signature: abi.Signature{Params: types{i32, i32, i32, i32, i32}, Results: types{i32}}},
	{Name: FuncAddHeader, Signature: abi.Signature{Params: types{i32, i32, i32, i32, i32}, Results: types{i32}}},
	{Name: FuncWriteBody, Signature: abi.Signature{Params: types{i32, i32, i32}, Results: types{i32}}},
	{Name: FuncSend, Signature: abi.Signature{Params: types{i32}, Results: types{i32}}},
	{Name: FuncGetHeaders, Signature: abi.Signature{Params: types{i32, i32, i32}, Results: types{i64}}},
	{Name: FuncReadBody, Signature: abi.Signature{Params: types{i32, i32, i32}, Results: types{i64}}},
	{Name: FuncClose, Signature: abi.Signature{Params: types{i32}}},
	{Name: FuncGetError, Signature: abi.Signature{Params: types{i32, i32}, Results: types{i32}}},
}

// types and the two value types shorten the table.
type types = []abi.ValueType

const (
	i32 = abi.I32
	i64 = abi.I64
)

// Flags are the options of request.
type Flags uint32

// The flags of request.
const (
	// FlagManualRedirect returns a 3xx response to the guest instead of
	// following it: the guest's own HTTP client follows it, if it wants
	// to, with a new call (the Go SDK does so).
	FlagManualRedirect Flags = 1 << 0
)

// Code is a negative result of a host function: why the call failed. The
// guest can read the detail with get_error.
type Code int32

// The error codes. Every one is negative, so that a handle or a status code
// (always positive) cannot be mistaken for one.
const (
	// CodeRefused: the outbound policy refused the call (its URL, or the
	// address its host name resolved to, or a redirect). It never
	// reached the network.
	CodeRefused Code = -1
	// CodeLimit: the request already made as many calls as it may.
	CodeLimit Code = -2
	// CodeInvalid: the method, URL, header or flags are invalid.
	CodeInvalid Code = -3
	// CodeHandle: no open call has this handle, or it is in the wrong
	// state (a header added after send, a body read before).
	CodeHandle Code = -4
	// CodeTimeout: the call's deadline passed (the outbound timeout, or
	// what was left of the handler timeout).
	CodeTimeout Code = -5
	// CodeNetwork: the origin could not be reached or answered badly: a
	// name that does not resolve, a refused connection, a TLS failure, a
	// reset, too many redirects.
	CodeNetwork Code = -6
	// CodeTooBig: the response body is larger than the host accepts.
	CodeTooBig Code = -7
	// CodeNoRequest: no request is in flight (the start function cannot
	// make calls).
	CodeNoRequest Code = -8
	// CodeCanceled: the client's request ended, so its calls were
	// cancelled.
	CodeCanceled Code = -9
)

// String names the code as docs/outbound.md does ("refused", "too big"),
// or "code(-12)" for a code this version does not know.
func (c Code) String() string {
	switch c {
	case CodeRefused:
		return "refused"
	case CodeLimit:
		return "limit"
	case CodeInvalid:
		return "invalid"
	case CodeHandle:
		return "handle"
	case CodeTimeout:
		return "timeout"
	case CodeNetwork:
		return "network"
	case CodeTooBig:
		return "too big"
	case CodeNoRequest:
		return "no request"
	case CodeCanceled:
		return "canceled"
	}
	return "code(" + strconv.Itoa(int(c)) + ")"
}
