//go:build wasip1

package guest

// Host functions of the http-wasm HTTP handler ABI, imported from the
// "http_handler" module. Buffers are passed as a pointer to the first byte
// plus a limit; strings are passed as Go strings, which the compiler lowers
// to the ABI's (ptr i32, len i32) pair. All 32-bit values are i32 on the Wasm
// side; the Go types here only choose how Go interprets the bits.

//go:wasmimport http_handler get_config
func getConfig(buf *byte, limit uint32) uint32

//go:wasmimport http_handler log_enabled
func logEnabled(level int32) uint32

//go:wasmimport http_handler log
func hostLog(level int32, msg string)

//go:wasmimport http_handler get_method
func getMethod(buf *byte, limit uint32) uint32

//go:wasmimport http_handler get_uri
func getURI(buf *byte, limit uint32) uint32

//go:wasmimport http_handler get_protocol_version
func getProtocolVersion(buf *byte, limit uint32) uint32

//go:wasmimport http_handler get_source_addr
func getSourceAddr(buf *byte, limit uint32) uint32

//go:wasmimport http_handler get_header_names
func getHeaderNames(kind uint32, buf *byte, limit uint32) uint64

//go:wasmimport http_handler get_header_values
func getHeaderValues(kind uint32, name string, buf *byte, limit uint32) uint64

//go:wasmimport http_handler set_header_value
func setHeaderValue(kind uint32, name string, value string)

//go:wasmimport http_handler add_header_value
func addHeaderValue(kind uint32, name string, value string)

//go:wasmimport http_handler read_body
func readBody(kind uint32, buf *byte, limit uint32) uint64

//go:wasmimport http_handler write_body
func writeBody(kind uint32, buf *byte, n uint32)

//go:wasmimport http_handler set_status_code
func setStatusCode(code uint32)

// Header and body kinds of the ABI.
const (
	kindRequest  uint32 = 0
	kindResponse uint32 = 1
)

//go:wasmimport http_handler enable_features
func enableFeatures(features uint32) uint32

//go:wasmimport http_handler set_method
func setMethod(method string)

//go:wasmimport http_handler set_uri
func setURI(uri string)

//go:wasmimport http_handler remove_header
func removeHeader(kind uint32, name string)

//go:wasmimport http_handler get_status_code
func getStatusCode() uint32

// Trailer kinds of the ABI.
const (
	kindRequestTrailers  uint32 = 2
	kindResponseTrailers uint32 = 3
)

// Features of the ABI, for enable_features.
const (
	featureBufferRequest  uint32 = 1
	featureBufferResponse uint32 = 2
	featureTrailers       uint32 = 4
)
