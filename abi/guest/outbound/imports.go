//go:build wasip1

package outbound

import contract "github.com/wasmserve/wasmserve/abi/outbound"

// Host functions of the wasmserve_http module (docs/outbound.md), whose
// signatures the contract's table (package abi/outbound) gives. Strings are
// lowered to the (ptr i32, len i32) pairs of those signatures.

//go:wasmimport wasmserve_http request
func request(method string, url string, flags contract.Flags) int32

//go:wasmimport wasmserve_http add_header
func addHeader(h int32, name string, value string) int32

//go:wasmimport wasmserve_http write_body
func writeBody(h int32, buf *byte, n uint32) int32

//go:wasmimport wasmserve_http send
func send(h int32) int32

//go:wasmimport wasmserve_http get_headers
func getHeaders(h int32, buf *byte, limit uint32) int64

//go:wasmimport wasmserve_http read_body
func readBody(h int32, buf *byte, limit uint32) int64

//go:wasmimport wasmserve_http close
func closeCall(h int32)

//go:wasmimport wasmserve_http get_error
func getError(buf *byte, limit uint32) uint32
