//go:build wasip1

// Command kvops is the benchmark guest of the key-value stores: each
// request makes one operation on the store "default", by path, and answers
// "ok":
//
//	/get   Get("k")
//	/set   Set("k", 64 bytes)
//	/incr  Increment("n", 1)
//	/none  nothing: the request without the store
package main

import (
	"io"
	"net/http"

	"github.com/wasmserve/wasmserve/abi/guest"
	"github.com/wasmserve/wasmserve/abi/guest/kv"
)

var value = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")

func init() {
	store, err := kv.Open("default")
	guest.Handle(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err == nil {
			switch r.URL.Path {
			case "/get":
				_, err = store.Get("k")
			case "/set":
				err = store.Set("k", value)
			case "/incr":
				_, err = store.Increment("n", 1)
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			err = nil
			return
		}
		io.WriteString(w, "ok")
	}))
}

func main() {}
