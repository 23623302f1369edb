//go:build wasip1

// Package outbound lets a wasmserve guest make outbound HTTP calls with
// net/http, through wasmserve's wasmserve_http host module
// (docs/outbound.md). Importing it installs [Transport] as
// http.DefaultTransport, so that http.Get, http.Client and the libraries
// built on them work unchanged:
//
//	import _ "github.com/wasmserve/wasmserve/abi/guest/outbound"
//
//	resp, err := http.Get("https://api.example.com/v1/items")
//
// The server refuses every call unless it was started with an allow
// pattern that matches the URL (wasmserve serve --allow-outbound ...); a
// refused call fails with an [*Error] whose Code is [CodeRefused], and
// http.Client wraps it in a *url.Error.
//
// It is a package of its own so that a guest that does not import it does
// not import wasmserve_http either, and still runs on any http-wasm host.
//
// Request and response bodies stream: the request body is read in 32 KiB
// chunks and handed to the host as it is read, and the response body is
// read from the host as the caller reads it. Calls block the guest (one
// request at a time per instance); a request's deadline is the server's
// handler timeout, and every call it leaves open is closed when it ends.
// Redirects are returned to the caller, so that http.Client follows them
// with its own CheckRedirect, each hop a new call the host checks again.
package outbound

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/wasmserve/wasmserve/abi"
	contract "github.com/wasmserve/wasmserve/abi/outbound"
)

func init() { http.DefaultTransport = Transport{} }

// Transport is an http.RoundTripper over the host. The zero value is ready
// to use.
type Transport struct{}

// Error is a failed host call.
type Error struct {
	// Code says why, one of the Code constants.
	Code Code
	// Message is the host's detail.
	Message string
}

// Error spells the failure as "wasmserve_http: refused: " and the host's
// message.
func (e *Error) Error() string {
	return "wasmserve_http: " + e.Code.String() + ": " + e.Message
}

// Code is why a host call failed: the contract's code, whose String is the
// name docs/outbound.md gives it.
type Code = contract.Code

// The error codes of the host module (docs/outbound.md).
const (
	CodeRefused   = contract.CodeRefused   // the outbound policy refused the call
	CodeLimit     = contract.CodeLimit     // the request made as many calls as it may
	CodeInvalid   = contract.CodeInvalid   // invalid method, URL or header
	CodeHandle    = contract.CodeHandle    // unknown handle, or a call in the wrong state
	CodeTimeout   = contract.CodeTimeout   // the call's deadline passed
	CodeNetwork   = contract.CodeNetwork   // the origin could not be reached or failed
	CodeTooBig    = contract.CodeTooBig    // the response body is over the host's limit
	CodeNoRequest = contract.CodeNoRequest // no request in flight (package init, for one)
	CodeCanceled  = contract.CodeCanceled  // the client's request ended
)

// hostError returns the error of a failed host call, with the host's
// message.
func hostError(code Code) error {
	buf := make([]byte, 256)
	for {
		n := getError(&buf[0], uint32(len(buf)))
		if n <= uint32(len(buf)) {
			return &Error{Code: code, Message: string(buf[:n])}
		}
		buf = make([]byte, n)
	}
}

// Timeout reports whether the error is a timeout, for net.Error-style
// checks.
func (e *Error) Timeout() bool { return e.Code == CodeTimeout }

// RoundTrip sends req through the host and returns its response, whose body
// streams from the host. It follows net/http's RoundTripper contract: it
// closes req.Body, and a non-2xx status is not an error.
func (Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	if req.URL == nil {
		return nil, errors.New("wasmserve_http: request without a URL")
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	h := request(method, req.URL.String(), contract.FlagManualRedirect)
	if h < 0 {
		return nil, hostError(Code(h))
	}
	ok := false
	defer func() {
		if !ok {
			closeCall(h)
		}
	}()
	for name, vs := range req.Header {
		for _, v := range vs {
			if c := addHeader(h, name, v); c < 0 {
				return nil, hostError(Code(c))
			}
		}
	}
	if req.Host != "" && req.Host != req.URL.Host {
		if c := addHeader(h, "Host", req.Host); c < 0 {
			return nil, hostError(Code(c))
		}
	}
	if req.ContentLength > 0 {
		if c := addHeader(h, "Content-Length", strconv.FormatInt(req.ContentLength, 10)); c < 0 {
			return nil, hostError(Code(c))
		}
	}
	if req.Body != nil && req.Body != http.NoBody {
		if err := writeAll(h, req.Body); err != nil {
			return nil, err
		}
	}
	status := send(h)
	if status < 0 {
		return nil, hostError(Code(status))
	}
	header, err := responseHeader(h)
	if err != nil {
		return nil, err
	}
	resp := &http.Response{
		Status:        strconv.Itoa(int(status)) + " " + http.StatusText(int(status)),
		StatusCode:    int(status),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          &body{h: h},
		ContentLength: -1,
		Request:       req,
	}
	if cl := header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil {
			resp.ContentLength = n
		}
	}
	if method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified {
		resp.Body.Close()
		resp.Body = http.NoBody
	}
	ok = true
	return resp, nil
}

// writeAll streams r to the call's request body.
func writeAll(h int32, r io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if c := writeBody(h, &buf[0], uint32(n)); c < 0 {
				return hostError(Code(c))
			}
		}
		switch {
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
}

// responseHeader reads the response headers, growing the buffer as the host
// asks.
func responseHeader(h int32) (http.Header, error) {
	buf := make([]byte, 2048)
	for {
		v := getHeaders(h, &buf[0], uint32(len(buf)))
		if v < 0 {
			return nil, hostError(Code(v))
		}
		count, n := abi.DecodeCountLen(uint64(v))
		if n > uint32(len(buf)) {
			buf = make([]byte, n)
			continue
		}
		header := make(http.Header, count)
		rest := string(buf[:n])
		for rest != "" {
			name, after, ok1 := strings.Cut(rest, "\x00")
			value, after2, ok2 := strings.Cut(after, "\x00")
			if !ok1 || !ok2 {
				break
			}
			key := http.CanonicalHeaderKey(name)
			header[key] = append(header[key], value)
			rest = after2
		}
		return header, nil
	}
}

// body is a response body read from the host.
type body struct {
	h      int32
	eof    bool
	closed bool
}

func (b *body) Read(p []byte) (int, error) {
	switch {
	case b.closed:
		return 0, errors.New("wasmserve_http: read on a closed response body")
	case b.eof:
		return 0, io.EOF
	case len(p) == 0:
		return 0, nil
	}
	v := readBody(b.h, &p[0], uint32(len(p)))
	if v < 0 {
		b.eof = true
		return 0, hostError(Code(v))
	}
	eof, n32 := abi.DecodeEOFLen(uint64(v))
	n := int(n32)
	if eof {
		b.eof = true
		if n == 0 {
			return 0, io.EOF
		}
	}
	return n, nil
}

func (b *body) Close() error {
	if !b.closed {
		b.closed = true
		closeCall(b.h)
	}
	return nil
}
