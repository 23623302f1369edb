//go:build wasip1

// Command headerreuse is a test guest for the SDK's reuse of its header
// maps between requests: it sets the response headers its query asks for
// (h=Name:value, repeated), adds the request headers it asks for
// (addreq=Name), and answers the sorted names of its request headers.
package main

import (
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/wasmserve/wasmserve/abi/guest"
)

func serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, name := range q["addreq"] {
		r.Header.Set(name, "added")
	}
	for _, h := range q["h"] {
		name, value, _ := strings.Cut(h, ":")
		w.Header().Set(name, value)
	}
	var names []string
	for k := range r.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	io.WriteString(w, strings.Join(names, ","))
}

func init() { guest.Handle(http.HandlerFunc(serve)) }

func main() {}
