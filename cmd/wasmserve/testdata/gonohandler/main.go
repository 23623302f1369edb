//go:build wasip1

// Command gonohandler registers its handler in main, which a
// -buildmode=c-shared module never runs: wasmserve must refuse it as it
// starts.
package main

import (
	"io"
	"net/http"

	"github.com/wasmserve/wasmserve/abi/guest"
)

func main() {
	guest.Handle(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "never\n")
	}))
}
