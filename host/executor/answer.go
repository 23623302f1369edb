package executor

import (
	"io"
	"net/http"
)

// WriteError answers a request with a generic error: the status and text,
// and the request id to find the log line by. No guest or host error text
// reaches the client.
func WriteError(w http.ResponseWriter, code int, text, id string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if id != "" {
		h.Set("X-Request-Id", id)
		text += " (request id " + id + ")"
	}
	w.WriteHeader(code)
	io.WriteString(w, text+"\n")
}
