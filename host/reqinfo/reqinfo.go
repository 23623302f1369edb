// Package reqinfo is the record of one request that the layers serving it
// share: the server gives it an id and reads it for the access log, the
// metrics and traces; the handler core writes which isolate served it and
// how long it waited and ran. It imports only the standard library, so that
// the server side needs no WebAssembly package to read it.
//
// The record travels on the http.ResponseWriter the server hands down (see
// [Of]) rather than in the request's context: a context value costs every
// request an allocation and a copy of the request.
package reqinfo

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net/http"
	"sync/atomic"
	"time"
	"unsafe"
)

// Header is the header that carries a request's id, on the request the
// handler sees and on every response.
const Header = "X-Request-Id"

// Info is what one request's layers tell each other. The zero value is a
// request without an id that no isolate has served.
type Info struct {
	// ID is the request id the server gave the request (its X-Request-Id).
	ID string
	// App names the app that served the request when the server serves
	// many (host/apps); empty otherwise, or when no app's route matched.
	App string
	// Isolate names the isolate that served the request; empty if none.
	Isolate string
	// Start is when the server took the request (its headers read), or
	// zero: the handler core measures Queued from it without a clock read
	// of its own.
	Start time.Time
	// Queued is how long the request waited for an isolate: from Start
	// (or from when the handler core took it) to having one.
	Queued time.Duration
	// Guest is how long the guest call ran; meaningful when Called.
	Guest time.Duration
	// Called says the guest was called.
	Called bool
	// Untraced says the server starts no spans: the layers under it need
	// not look for a span to continue in the request's context.
	Untraced bool
}

// Carrier is a ResponseWriter that carries the request's Info.
type Carrier interface {
	RequestInfo() *Info
}

// Of returns the Info carried by w or by a writer it wraps (through Unwrap,
// as http.ResponseController unwraps), or nil when nothing in front of the
// handler keeps one.
func Of(w http.ResponseWriter) *Info {
	for range 8 {
		switch rw := w.(type) {
		case Carrier:
			return rw.RequestInfo()
		case interface{ Unwrap() http.ResponseWriter }:
			w = rw.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// idKey is the context key of WithID.
type idKey struct{}

// WithID returns ctx carrying the request id, for the code that gets a
// request's context and no ResponseWriter: host extensions, whose log lines
// name the request. The handler core adds it only for a guest that imports
// an extension, so that other requests pay nothing for it.
func WithID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, idKey{}, id)
}

// IDFrom returns the request id ctx carries (see WithID), or "".
func IDFrom(ctx context.Context) string {
	id, _ := ctx.Value(idKey{}).(string)
	return id
}

// IDOf returns the id of the request w answers, or a new one when nothing
// in front of the handler gave it one.
func IDOf(w http.ResponseWriter) string {
	if info := Of(w); info != nil && info.ID != "" {
		return info.ID
	}
	return NewID()
}

// Request ids are 16 hex digits: a random per-process base plus a counter,
// so unique within the process, not guessable across restarts, and without a
// system call per request.
var (
	idBase = func() uint64 {
		var b [8]byte
		rand.Read(b[:])
		return binary.LittleEndian.Uint64(b[:])
	}()
	idSeq atomic.Uint64
)

// NewID returns a fresh request id.
func NewID() string {
	id, _ := NewIDValue()
	return id
}

// idValue is a request id's bytes and a header value holding it, allocated
// together (see NewIDValue).
type idValue struct {
	b [16]byte
	v [1]string
}

// NewIDValue returns a fresh request id and a header value of it
// ([]string{id}, its capacity its length), in one allocation instead of
// two: the server sets the value on both the request and the response.
// The id's bytes are never written after it is made, so the string over
// them is immutable like any other.
func NewIDValue() (string, []string) {
	const digits = "0123456789abcdef"
	c := new(idValue)
	n := idBase + idSeq.Add(1)
	for i := 15; i >= 0; i-- {
		c.b[i] = digits[n&15]
		n >>= 4
	}
	c.v[0] = unsafe.String(&c.b[0], len(c.b))
	return c.v[0], c.v[:]
}

// WriteError answers a request with a generic error: the status and text,
// and the request id to find the log line by. No guest or host error text
// reaches the client.
func WriteError(w http.ResponseWriter, code int, text, id string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if id != "" {
		h[Header] = []string{id}
		text += " (request id " + id + ")"
	}
	w.WriteHeader(code)
	io.WriteString(w, text+"\n")
}
