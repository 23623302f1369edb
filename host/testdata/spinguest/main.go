//go:build wasip1

// Command spinguest is a test guest: /spin never returns (for {}), any
// other path answers "ok". Built by the host tests through
// testguest.BuildPackage.
package main

import (
	"io"
	"net/http"

	"github.com/wasmserve/wasmserve/abi/guest"
)

var sink int

func handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/spin" {
		for {
			sink++
		}
	}
	io.WriteString(w, "ok")
}

func init() { guest.Handle(http.HandlerFunc(handle)) }

func main() {}
