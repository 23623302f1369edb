//go:build wasip1

// Command gonotransport calls http.Get without the blank import of
// abi/guest/outbound, and answers 502 with the error it got.
package main

import (
	"io"
	"net/http"

	"github.com/wasmserve/wasmserve/abi/guest"
)

func init() {
	guest.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(r.URL.Query().Get("url"))
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, err.Error()+"\n")
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	})
}

func main() {}
