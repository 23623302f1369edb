//go:build wasip1

// Command echo is a wasmserve guest that answers with the request it
// received, as JSON:
//
//	{"method":"POST","uri":"/x?y=1","proto":"HTTP/1.1","host":"example.com",
//	 "remote_addr":"192.0.2.1:1234","headers":{"Content-Type":["text/plain"]},
//	 "body":"..."}
//
// The body is echoed as a JSON string (invalid UTF-8 is replaced by U+FFFD).
// Request bodies up to maxBody bytes are accepted; larger ones get 413.
//
// Build it with:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o echo.wasm ./guest-examples/echo
package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/wasmserve/wasmserve/abi/guest"
)

// maxBody is the largest request body echoed back.
const maxBody = 8 << 20

// echoed is the JSON document written back to the client.
type echoed struct {
	Method     string              `json:"method"`
	URI        string              `json:"uri"`
	Proto      string              `json:"proto"`
	Host       string              `json:"host"`
	RemoteAddr string              `json:"remote_addr"`
	Headers    map[string][]string `json:"headers"`
	Body       string              `json:"body"`
}

// echo writes the request back as JSON.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(echoed{
		Method:     r.Method,
		URI:        r.RequestURI,
		Proto:      r.Proto,
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		Headers:    r.Header,
		Body:       string(body),
	})
}

// init registers the handler: a -buildmode=c-shared module runs package
// initialization when the host calls _initialize, but never main.
func init() {
	guest.Handle(http.HandlerFunc(echo))
}

func main() {}
