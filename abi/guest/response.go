//go:build wasip1

package guest

import (
	"errors"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/wasmserve/wasmserve/abi"
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
	trailers    []string // names the Trailer header announced when the header was sent
	// noTrailers is set when the header map, as it was sent, had no
	// trailer keys and announced none; sentKeys is its size then.
	noTrailers bool
	sentKeys   int
	next       http.Header // after Next: the next handler's header, as the host holds it
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
	if w.next != nil {
		w.syncHeader()
		setStatusCode(uint32(code))
		return
	}
	// One pass over the map sends it and finds what else is needed:
	// each map operation is costly in a wasm guest.
	haveType, chunked, trailerKeys := false, false, false
	for k, vs := range w.header {
		switch k {
		case "Content-Type":
			haveType = true
		case "Transfer-Encoding":
			chunked = len(vs) > 0 && vs[0] != ""
		}
		if len(vs) == 0 {
			continue
		}
		if isTrailerKey(k) {
			trailerKeys = true
			continue
		}
		if k == "Trailer" {
			w.declareTrailers(vs)
			continue
		}
		setHeaderValue(abi.HeaderKindResponse, k, vs[0])
		for _, v := range vs[1:] {
			addHeaderValue(abi.HeaderKindResponse, k, v)
		}
	}
	w.needSniff = w.bodyAllowed && !haveType && !chunked
	w.noTrailers = !trailerKeys && len(w.trailers) == 0
	w.sentKeys = len(w.header)
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
	setHeaderValue(abi.HeaderKindResponse, "Content-Type", http.DetectContentType(unsafe.Slice(p, n)))
}

func (w *responseWriter) write(p *byte, n int) (int, error) {
	if w.done {
		return 0, errHandlerDone
	}
	if !w.wroteHeader {
		w.sendHeader(w.defaultStatus())
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
		writeBody(abi.BodyKindResponse, (*byte)(unsafe.Add(unsafe.Pointer(p), off)), uint32(chunk))
		off += chunk
	}
	return n, nil
}

// Flush implements http.Flusher. Body bytes are never buffered in the
// guest, so it only sends the header if it has not been sent yet.
func (w *responseWriter) Flush() {
	if !w.wroteHeader && !w.done {
		w.sendHeader(w.defaultStatus())
	}
}

// defaultStatus is the status of a response whose handler wrote without
// WriteHeader: 200, or after Next the next handler's.
func (w *responseWriter) defaultStatus() int {
	if w.next != nil {
		return w.status
	}
	return http.StatusOK
}

// finish completes the response after the handler returned.
func (w *responseWriter) finish() {
	switch {
	case w.wroteHeader:
	case w.next != nil:
		// The next handler's status stands; header changes go.
		w.wroteHeader = true
		w.syncHeader()
	default:
		w.sendHeader(http.StatusOK)
	}
	w.sendTrailers()
	w.done = true
}

// isTrailerKey reports whether k is a trailer set with http.TrailerPrefix.
func isTrailerKey(k string) bool { return strings.HasPrefix(k, http.TrailerPrefix) }

// declareTrailers records the names a Trailer header announces, as
// net/http reads them when the header is written.
func (w *responseWriter) declareTrailers(lines []string) {
	for _, line := range lines {
		for _, k := range strings.Split(line, ",") {
			if k = textproto.TrimString(k); k != "" {
				w.trailers = append(w.trailers, http.CanonicalHeaderKey(k))
			}
		}
	}
}

// sendTrailers sends the response trailers the handler set, announced or
// with http.TrailerPrefix, as header kind 3, turning the ABI's trailers
// feature on for this request when there is any. When the header went out
// with no trailer announced or set and the map has as many keys as then,
// no key was added since, and there is nothing to look for.
func (w *responseWriter) sendTrailers() {
	if w.noTrailers && len(w.header) == w.sentKeys {
		return
	}
	on := false
	for k, vs := range w.header {
		name := k
		switch {
		case isTrailerKey(k):
			name = k[len(http.TrailerPrefix):]
		case !slices.Contains(w.trailers, k):
			continue
		}
		if len(vs) == 0 || name == "" {
			continue
		}
		if !on {
			enableFeatures(abi.FeatureTrailers)
			on = true
		}
		setHeaderValue(abi.HeaderKindResponseTrailers, name, vs[0])
		for _, v := range vs[1:] {
			addHeaderValue(abi.HeaderKindResponseTrailers, name, v)
		}
	}
}

// syncHeader sends the host, after Next, what the handler changed in the
// next handler's header.
func (w *responseWriter) syncHeader() {
	for k := range w.next {
		if _, ok := w.header[k]; !ok {
			removeHeader(abi.HeaderKindResponse, k)
		}
	}
	for k, vs := range w.header {
		if isTrailerKey(k) || slices.Equal(vs, w.next[k]) {
			continue
		}
		if len(vs) == 0 {
			removeHeader(abi.HeaderKindResponse, k)
			continue
		}
		setHeaderValue(abi.HeaderKindResponse, k, vs[0])
		for _, v := range vs[1:] {
			addHeaderValue(abi.HeaderKindResponse, k, v)
		}
	}
	w.next = w.header.Clone()
}
