//go:build wasip1

package guest

import (
	"errors"
	"net/http"
	"strconv"
	"unsafe"
)

// errHandlerDone is returned by writes through a ResponseWriter whose
// handler already returned.
var errHandlerDone = errors.New("guest: ResponseWriter used after the handler returned")

// responseWriter is the http.ResponseWriter passed to the handler. Headers
// and the status code go to the host at the first Write, WriteHeader or
// Flush; body bytes are handed to the host's write_body as they are
// written, without buffering in the guest.
type responseWriter struct {
	header      http.Header
	status      int
	wroteHeader bool
	bodyAllowed bool
	needSniff   bool // Content-Type is to be sniffed from the first bytes
	done        bool
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
)

// Header implements http.ResponseWriter.
func (w *responseWriter) Header() http.Header { return w.header }

// WriteHeader implements http.ResponseWriter. Informational (1xx) codes
// cannot be sent through the ABI and are ignored; a second call is ignored
// like in net/http.
func (w *responseWriter) WriteHeader(code int) {
	if w.done || w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic("guest: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 200 {
		return
	}
	w.sendHeader(code)
}

// sendHeader flushes the header map and the status code to the host.
func (w *responseWriter) sendHeader(code int) {
	w.wroteHeader = true
	w.status = code
	w.bodyAllowed = code != http.StatusNoContent && code != http.StatusNotModified
	_, haveType := w.header["Content-Type"]
	w.needSniff = w.bodyAllowed && !haveType && w.header.Get("Transfer-Encoding") == ""
	for k, vs := range w.header {
		if len(vs) == 0 {
			continue
		}
		setHeaderValue(kindResponse, k, vs[0])
		for _, v := range vs[1:] {
			addHeaderValue(kindResponse, k, v)
		}
	}
	setStatusCode(uint32(code))
}

// Write implements http.ResponseWriter.
func (w *responseWriter) Write(p []byte) (int, error) {
	return w.write(unsafe.SliceData(p), len(p))
}

// WriteString implements io.StringWriter, so io.WriteString passes the
// string to the host without copying it.
func (w *responseWriter) WriteString(s string) (int, error) {
	return w.write(unsafe.StringData(s), len(s))
}

// sniff sends a Content-Type detected from the first body bytes, for a
// handler that did not set the key at all, as net/http does. The host
// commits the response header at the first write_body, so it can still be
// set here even after the status code.
func (w *responseWriter) sniff(p *byte, n int) {
	w.needSniff = false
	if n > 512 {
		n = 512
	}
	setHeaderValue(kindResponse, "Content-Type", http.DetectContentType(unsafe.Slice(p, n)))
}

func (w *responseWriter) write(p *byte, n int) (int, error) {
	if w.done {
		return 0, errHandlerDone
	}
	if !w.wroteHeader {
		w.sendHeader(http.StatusOK)
	}
	if !w.bodyAllowed {
		return 0, http.ErrBodyNotAllowed
	}
	if n == 0 {
		return 0, nil
	}
	if w.needSniff {
		w.sniff(p, n)
	}
	for off := 0; off < n; {
		chunk := n - off
		if chunk > 1<<30 {
			chunk = 1 << 30
		}
		writeBody(kindResponse, (*byte)(unsafe.Add(unsafe.Pointer(p), off)), uint32(chunk))
		off += chunk
	}
	return n, nil
}

// Flush implements http.Flusher. Body bytes are never buffered in the
// guest, so it only sends the header if it has not been sent yet.
func (w *responseWriter) Flush() {
	if !w.wroteHeader && !w.done {
		w.sendHeader(http.StatusOK)
	}
}

// finish completes the response after the handler returned.
func (w *responseWriter) finish() {
	if !w.wroteHeader {
		w.sendHeader(http.StatusOK)
	}
	w.done = true
}
