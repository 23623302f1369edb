// Package outbound is wasmserve's host extension for outbound HTTP: the
// names, error codes and encodings of the "wasmserve_http" import module, and
// its host-side implementation over guest memory. docs/outbound.md is its
// specification.
//
// A guest opens a call with request, adds headers, streams a body with
// write_body, and gets the response head with send; it then reads the
// response headers and streams the response body, and closes the handle.
// The package does no networking itself: every call goes through
// [Host.Send], where the server applies its policy (package host). Like
// package abi it depends only on the standard library and wazero.
package outbound

import (
	"context"
	"errors"
	"os"
	"strconv"

	"github.com/tetratelabs/wazero/api"
)

// ModuleName is the import module of the outbound host functions.
const ModuleName = "wasmserve_http"

// Names of the host functions in [ModuleName].
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

// Signature is the parameter and result types of a host function.
type Signature struct {
	Params, Results []api.ValueType
}

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

func sig(t ...api.ValueType) []api.ValueType { return t }

// Signatures lists every host function of [ModuleName], for checking a
// module's imports before it is run.
var Signatures = map[string]Signature{
	FuncRequest:    {sig(i32, i32, i32, i32, i32), sig(i32)},
	FuncAddHeader:  {sig(i32, i32, i32, i32, i32), sig(i32)},
	FuncWriteBody:  {sig(i32, i32, i32), sig(i32)},
	FuncSend:       {sig(i32), sig(i32)},
	FuncGetHeaders: {sig(i32, i32, i32), sig(i64)},
	FuncReadBody:   {sig(i32, i32, i32), sig(i64)},
	FuncClose:      {sig(i32), nil},
	FuncGetError:   {sig(i32, i32), sig(i32)},
}

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

// String names the code ("refused").
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

// Errors a [Host.Send] returns, wrapped, for the codes that are not plain
// network failures.
var (
	// ErrRefused is a call the policy refused: CodeRefused.
	ErrRefused = errors.New("refused by the outbound policy")
	// ErrTooBig is a response body over the limit: CodeTooBig.
	ErrTooBig = errors.New("response body too large")
)

// CodeOf maps an error of a call to its code.
func CodeOf(err error) Code {
	switch {
	case errors.Is(err, ErrRefused):
		return CodeRefused
	case errors.Is(err, ErrTooBig):
		return CodeTooBig
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return CodeTimeout
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return CodeTimeout
	}
	return CodeNetwork
}

// EncodeEOFLen is read_body's result: eof in bit 32, the byte count below.
func EncodeEOFLen(eof bool, n uint32) uint64 {
	v := uint64(n)
	if eof {
		v |= 1 << 32
	}
	return v
}

// EncodeCountLen is get_headers's result: the count of header values in the
// upper 32 bits, the byte length of their encoding in the lower.
func EncodeCountLen(count, n uint32) uint64 { return uint64(count)<<32 | uint64(n) }
