//go:build wasip1

// Command copygo is the Go counterpart of copy.wat for the benchmarks: it
// answers a request with its body, through io.Copy, as the native echo does.
package main

import (
	"io"
	"net/http"

	"github.com/wasmserve/wasmserve/abi/guest"
)

func init() {
	guest.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.Copy(w, r.Body)
	})
}

func main() {}
