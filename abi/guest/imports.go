//go:build wasip1

package guest

import "github.com/wasmserve/wasmserve/abi"

// Host functions of the http-wasm HTTP handler ABI, imported from the
// "http_handler" module; abi.Functions lists them with their signatures.
// Buffers are passed as a pointer to the first byte plus a limit; strings
// are passed as Go strings, which the compiler lowers to the ABI's (ptr i32,
// len i32) pair. All 32-bit values are i32 on the Wasm side; the Go types
// here, package abi's enums among them, only choose how Go interprets the
// bits.

//go:wasmimport http_handler enable_features
func enableFeatures(features abi.Features) abi.Features

//go:wasmimport http_handler get_config
func getConfig(buf *byte, limit uint32) uint32

//go:wasmimport http_handler log_enabled
func logEnabled(level abi.LogLevel) uint32

//go:wasmimport http_handler log
func hostLog(level abi.LogLevel, msg string)

//go:wasmimport http_handler get_method
func getMethod(buf *byte, limit uint32) uint32

//go:wasmimport http_handler set_method
func setMethod(method string)

//go:wasmimport http_handler get_uri
func getURI(buf *byte, limit uint32) uint32

//go:wasmimport http_handler set_uri
func setURI(uri string)

//go:wasmimport http_handler get_protocol_version
func getProtocolVersion(buf *byte, limit uint32) uint32

//go:wasmimport http_handler get_source_addr
func getSourceAddr(buf *byte, limit uint32) uint32

//go:wasmimport http_handler get_header_names
func getHeaderNames(kind abi.HeaderKind, buf *byte, limit uint32) uint64

//go:wasmimport http_handler get_header_values
func getHeaderValues(kind abi.HeaderKind, name string, buf *byte, limit uint32) uint64

//go:wasmimport http_handler set_header_value
func setHeaderValue(kind abi.HeaderKind, name string, value string)

//go:wasmimport http_handler add_header_value
func addHeaderValue(kind abi.HeaderKind, name string, value string)

//go:wasmimport http_handler remove_header
func removeHeader(kind abi.HeaderKind, name string)

//go:wasmimport http_handler read_body
func readBody(kind abi.BodyKind, buf *byte, limit uint32) uint64

//go:wasmimport http_handler write_body
func writeBody(kind abi.BodyKind, buf *byte, n uint32)

//go:wasmimport http_handler get_status_code
func getStatusCode() uint32

//go:wasmimport http_handler set_status_code
func setStatusCode(code uint32)
