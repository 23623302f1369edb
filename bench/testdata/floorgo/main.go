//go:build wasip1

// Command floorgo is the floor of a Go guest: handle_request makes the
// WAT hello's host calls (get_uri, set_header_value, write_body) straight
// through go:wasmimport, with no SDK, no http.Request and no allocation.
// BenchmarkHelloGoFloor minus BenchmarkHelloWAT is what entering Go code
// through a go:wasmexport costs; BenchmarkHelloGo minus this is the SDK.
package main

import "unsafe"

//go:wasmimport http_handler get_uri
func getURI(buf *byte, limit uint32) uint32

//go:wasmimport http_handler set_header_value
func setHeaderValue(kind uint32, name, value string)

//go:wasmimport http_handler write_body
func writeBody(kind uint32, buf *byte, n uint32)

var buf [256]byte

const prefix = "Hello from wasmserve: "

//go:wasmexport handle_request
func handleRequest() uint64 {
	n := copy(buf[:], prefix)
	m := getURI(&buf[n], uint32(len(buf)-n-1))
	if int(m) > len(buf)-n-1 {
		m = 0
	}
	end := n + int(m)
	buf[end] = '\n'
	setHeaderValue(1, "Content-Type", "text/plain; charset=utf-8")
	writeBody(1, (*byte)(unsafe.Pointer(&buf[0])), uint32(end+1))
	return 0
}

//go:wasmexport handle_response
func handleResponse(reqCtx, isError uint32) {}

func main() {}
