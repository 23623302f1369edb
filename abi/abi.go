// Package abi is the guest contract of wasmserve: the names, enums and
// encodings of the http-wasm HTTP handler ABI (https://http-wasm.io), and
// the table of the host functions of its import module, "http_handler",
// with their signatures ([Functions]), and of the guest's exports
// ([Exports]).
//
// The package depends only on the standard library and builds for every
// target, GOOS=wasip1 included, so that the host side
// (host/executor/httpwasm) and the Go guest SDK (abi/guest) share one
// definition instead of each keeping its own. The contract of wasmserve's
// own import module for outbound HTTP, "wasmserve_http", is package
// abi/outbound.
package abi

import "strconv"

// ModuleName is the name of the import module every http-wasm guest imports
// its host functions from.
const ModuleName = "http_handler"

// WASIModuleName is the WASI import module a guest may import beside
// [ModuleName]; the host provides it too.
const WASIModuleName = "wasi_snapshot_preview1"

// Names of the guest's exports.
const (
	// ExportMemory is the guest's linear memory, through which every
	// pointer and length of the ABI is resolved.
	ExportMemory = "memory"
	// ExportHandleRequest is handle_request() -> i64.
	ExportHandleRequest = "handle_request"
	// ExportHandleResponse is handle_response(req_ctx i32, is_error i32).
	ExportHandleResponse = "handle_response"
	// ExportHandlerRegistered is wasmserve_handler_registered() -> i32,
	// optional: the Go SDK's answer, once the module started, to whether
	// a handler was registered (1) or not (0). wasmserve refuses a module
	// that answers 0: it would answer every request 500.
	ExportHandlerRegistered = "wasmserve_handler_registered"
)

// Names of the host functions in [ModuleName], in the order of
// [Functions], which gives their signatures.
const (
	FuncEnableFeatures     = "enable_features"
	FuncGetConfig          = "get_config"
	FuncLogEnabled         = "log_enabled"
	FuncLog                = "log"
	FuncGetMethod          = "get_method"
	FuncSetMethod          = "set_method"
	FuncGetURI             = "get_uri"
	FuncSetURI             = "set_uri"
	FuncGetProtocolVersion = "get_protocol_version"
	FuncGetSourceAddr      = "get_source_addr"
	FuncGetHeaderNames     = "get_header_names"
	FuncGetHeaderValues    = "get_header_values"
	FuncSetHeaderValue     = "set_header_value"
	FuncAddHeaderValue     = "add_header_value"
	FuncRemoveHeader       = "remove_header"
	FuncReadBody           = "read_body"
	FuncWriteBody          = "write_body"
	FuncGetStatusCode      = "get_status_code"
	FuncSetStatusCode      = "set_status_code"
)

// Features is a bit set of optional host behaviour a guest asks for with
// enable_features. The zero value enables nothing.
type Features uint32

// The features of the ABI.
const (
	// FeatureBufferRequest keeps the request body readable by the next
	// handler after the guest read it.
	FeatureBufferRequest Features = 1 << 0
	// FeatureBufferResponse lets the guest read and rewrite the next
	// handler's response in handle_response.
	FeatureBufferResponse Features = 1 << 1
	// FeatureTrailers makes trailers (header kinds 2 and 3) available.
	FeatureTrailers Features = 1 << 2
)

// Has reports whether every bit of want is set in f.
func (f Features) Has(want Features) bool { return f&want == want }

// String names the enabled features, "buffer_request|trailers" style, or
// "none".
func (f Features) String() string {
	if f == 0 {
		return "none"
	}
	s := ""
	add := func(bit Features, name string) {
		if f&bit != 0 {
			if s != "" {
				s += "|"
			}
			s += name
		}
	}
	add(FeatureBufferRequest, "buffer_request")
	add(FeatureBufferResponse, "buffer_response")
	add(FeatureTrailers, "trailers")
	if rest := f &^ (FeatureBufferRequest | FeatureBufferResponse | FeatureTrailers); rest != 0 {
		add(rest, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	return s
}

// LogLevel is the level of a guest log message. The zero value is
// [LogLevelInfo].
type LogLevel int32

// The log levels of the ABI.
const (
	LogLevelDebug LogLevel = -1
	LogLevelInfo  LogLevel = 0
	LogLevelWarn  LogLevel = 1
	LogLevelError LogLevel = 2
	LogLevelNone  LogLevel = 3
)

// String returns the level's lower-case name.
func (l LogLevel) String() string {
	switch l {
	case LogLevelDebug:
		return "debug"
	case LogLevelInfo:
		return "info"
	case LogLevelWarn:
		return "warn"
	case LogLevelError:
		return "error"
	case LogLevelNone:
		return "none"
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// HeaderKind selects which header fields a header function works on.
type HeaderKind uint32

// The header kinds of the ABI.
const (
	HeaderKindRequest          HeaderKind = 0
	HeaderKindResponse         HeaderKind = 1
	HeaderKindRequestTrailers  HeaderKind = 2
	HeaderKindResponseTrailers HeaderKind = 3
)

// String returns the kind's name.
func (k HeaderKind) String() string {
	switch k {
	case HeaderKindRequest:
		return "request"
	case HeaderKindResponse:
		return "response"
	case HeaderKindRequestTrailers:
		return "request trailers"
	case HeaderKindResponseTrailers:
		return "response trailers"
	}
	return "header kind " + strconv.FormatUint(uint64(k), 10)
}

// BodyKind selects which body a body function works on.
type BodyKind uint32

// The body kinds of the ABI.
const (
	BodyKindRequest  BodyKind = 0
	BodyKindResponse BodyKind = 1
)

// String returns the kind's name.
func (k BodyKind) String() string {
	switch k {
	case BodyKindRequest:
		return "request body"
	case BodyKindResponse:
		return "response body"
	}
	return "body kind " + strconv.FormatUint(uint64(k), 10)
}

// EncodeCountLen packs the result of get_header_names and
// get_header_values: the number of fields in the upper 32 bits and the
// total byte length of the NUL-terminated list in the lower 32.
func EncodeCountLen(count, length uint32) uint64 {
	return uint64(count)<<32 | uint64(length)
}

// DecodeCountLen is the inverse of [EncodeCountLen].
func DecodeCountLen(v uint64) (count, length uint32) {
	return uint32(v >> 32), uint32(v)
}

// EncodeEOFLen packs the result of read_body: eof (1 when nothing follows the
// bytes just read) in the upper 32 bits, the count of bytes read in the lower.
func EncodeEOFLen(eof bool, n uint32) uint64 {
	v := uint64(n)
	if eof {
		v |= 1 << 32
	}
	return v
}

// DecodeEOFLen is the inverse of [EncodeEOFLen].
func DecodeEOFLen(v uint64) (eof bool, n uint32) {
	return v>>32 == 1, uint32(v)
}

// DecodeHandleRequest splits handle_request's result into the opaque request
// context (upper 32 bits) and next (the lowest bit): whether the host must
// call the next handler and then handle_response.
func DecodeHandleRequest(v uint64) (reqCtx uint32, next bool) {
	return uint32(v >> 32), v&1 == 1
}

// EncodeHandleRequest is the inverse of [DecodeHandleRequest]; guests and
// tests use it.
func EncodeHandleRequest(reqCtx uint32, next bool) uint64 {
	v := uint64(reqCtx) << 32
	if next {
		v |= 1
	}
	return v
}

// AppendNULList appends each value followed by a NUL byte to dst, the list
// encoding of get_header_names and get_header_values.
func AppendNULList(dst []byte, values ...string) []byte {
	for _, v := range values {
		dst = append(dst, v...)
		dst = append(dst, 0)
	}
	return dst
}

// SplitNULList decodes a NUL-terminated list. A final element without its NUL
// is returned too.
func SplitNULList(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, string(b[start:]))
	}
	return out
}
