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
)

func init() { http.DefaultTransport = Transport{} }

// Transport is an http.RoundTripper over the host. The zero value is ready
// to use.
type Transport struct{}

// Error is a failed host call.
type Error struct {
	// Code says why, one of the Code constants.
	Code int32
	// Message is the host's detail.
	Message string
}

func (e *Error) Error() string {
	return "wasmserve_http: " + codeName(e.Code) + ": " + e.Message
}

// The error codes of the host module (docs/outbound.md).
const (
	CodeRefused   int32 = -1 // the outbound policy refused the call
	CodeLimit     int32 = -2 // the request made as many calls as it may
	CodeInvalid   int32 = -3 // invalid method, URL or header
	CodeHandle    int32 = -4 // unknown handle, or a call in the wrong state
	CodeTimeout   int32 = -5 // the call's deadline passed
	CodeNetwork   int32 = -6 // the origin could not be reached or failed
	CodeTooBig    int32 = -7 // the response body is over the host's limit
	CodeNoRequest int32 = -8 // no request in flight (package init, for one)
	CodeCanceled  int32 = -9 // the client's request ended
)

func codeName(c int32) string {
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
	return "code " + strconv.Itoa(int(c))
}

// hostError returns the error of a failed host call, with the host's
// message.
func hostError(code int32) error {
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

// flagManualRedirect: the host returns 3xx responses as they are.
const flagManualRedirect = 1

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
	h := request(method, req.URL.String(), flagManualRedirect)
	if h < 0 {
		return nil, hostError(h)
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
				return nil, hostError(c)
			}
		}
	}
	if req.Host != "" && req.Host != req.URL.Host {
		if c := addHeader(h, "Host", req.Host); c < 0 {
			return nil, hostError(c)
		}
	}
	if req.ContentLength > 0 {
		if c := addHeader(h, "Content-Length", strconv.FormatInt(req.ContentLength, 10)); c < 0 {
			return nil, hostError(c)
		}
	}
	if req.Body != nil && req.Body != http.NoBody {
		if err := writeAll(h, req.Body); err != nil {
			return nil, err
		}
	}
	status := send(h)
	if status < 0 {
		return nil, hostError(status)
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
				return hostError(c)
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
			return nil, hostError(int32(v))
		}
		count, n := uint32(v>>32), uint32(v)
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
		return 0, hostError(int32(v))
	}
	n := int(uint32(v))
	if v>>32&1 == 1 {
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
