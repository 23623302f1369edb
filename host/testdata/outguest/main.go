//go:build wasip1

// Command outguest is a test guest of outbound HTTP, built by the host tests
// through testguest.BuildPackage:
//
//	/fetch?url=U[&method=M]  calls U with http.DefaultClient (redirects
//	                         followed), the request's body streamed as the
//	                         call's body and its X-* headers forwarded;
//	                         answers the call's status, X-* headers and
//	                         body, streamed; a failed call answers 502 with
//	                         the error
//	/many?url=U&n=N          GETs U N times, one after another, and answers
//	                         how many succeeded, or 502 at the first error
//	/leak?url=U              sends a call and returns without closing it
package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/wasmserve/wasmserve/abi/guest"
	_ "github.com/wasmserve/wasmserve/abi/guest/outbound"
)

func handle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch r.URL.Path {
	case "/fetch":
		method := q.Get("method")
		if method == "" {
			method = http.MethodGet
		}
		var body io.Reader
		if r.ContentLength != 0 {
			body = r.Body
		}
		req, err := http.NewRequest(method, q.Get("url"), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.ContentLength = r.ContentLength
		for k, vs := range r.Header {
			if strings.HasPrefix(k, "X-") {
				req.Header[k] = vs
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			if strings.HasPrefix(k, "X-") {
				w.Header()[k] = vs
			}
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(resp.StatusCode)
		if _, err := io.Copy(w, resp.Body); err != nil {
			io.WriteString(w, "\nbody error: "+err.Error())
		}
	case "/many":
		n, _ := strconv.Atoi(q.Get("n"))
		for i := 0; i < n; i++ {
			resp, err := http.Get(q.Get("url"))
			if err != nil {
				http.Error(w, fmt.Sprintf("call %d: %v", i+1, err), http.StatusBadGateway)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		fmt.Fprintf(w, "%d calls ok", n)
	case "/leak":
		resp, err := http.Get(q.Get("url"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "left %d open", resp.StatusCode)
	default:
		http.NotFound(w, r)
	}
}

func init() { guest.Handle(http.HandlerFunc(handle)) }

func main() {}
