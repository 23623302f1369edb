//go:build wasip1

// Command proxy is the benchmark guest of outbound HTTP: it GETs the URL
// given as its guest config with http.Get and answers the response's status
// and body. Built by BenchmarkOutboundProxy.
package main

import (
	"io"
	"net/http"

	"github.com/wasmserve/wasmserve/abi/guest"
	_ "github.com/wasmserve/wasmserve/abi/guest/outbound"
)

var upstream string

func handle(w http.ResponseWriter, r *http.Request) {
	if upstream == "" {
		upstream = string(guest.Config())
	}
	resp, err := http.Get(upstream)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func init() { guest.Handle(http.HandlerFunc(handle)) }

func main() {}
