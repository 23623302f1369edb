//go:build wasip1

// Command hello is a wasmserve guest that greets the caller with the
// request path.
//
// Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hello.wasm ./guest-examples/hello
package main

import (
	"io"
	"net/http"

	"github.com/wasmserve/wasmserve/abi/guest"
)

// hello replies "Hello from wasmserve: <path>".
func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "Hello from wasmserve: "+r.URL.Path+"\n")
}

// init registers the handler: a -buildmode=c-shared module runs package
// initialization when the host calls _initialize, but never main.
func init() {
	guest.Handle(http.HandlerFunc(hello))
}

func main() {}
