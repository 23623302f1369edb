// Package ops holds the operations BenchmarkGoGuestOps times, compiled both
// into the goops guest and natively, so that one source gives both sides.
package ops

import (
	"io"
	"net/http"
	"strings"
)

// Names lists the operations in the order the benchmark runs them.
var Names = []string{"call", "alloc", "concat", "mapassign", "maplookup", "mapiter", "typeassert", "canonicalkey"}

var (
	buf   [64]byte
	sink  string
	hdr1  = http.Header{"Content-Type": {"text/plain"}}
	hdr8  = make(http.Header, 8)
	vals1 = []string{"text/plain"}
	path  = "/bench"
	// w is an interface value whose dynamic type only a run-time
	// assertion can tell, as io.WriteString's is.
	w io.Writer = &strings.Builder{}
)

//go:noinline
func call() {}

// ByName returns the operation called name; an unknown name gives call,
// an empty function call.
func ByName(name string) func() {
	switch name {
	case "alloc": // one small heap allocation
		return func() { sink = string(buf[:20]) }
	case "concat": // the hello handler's string concatenation
		return func() { sink = "Hello from wasmserve: " + path + "\n" }
	case "mapassign": // set an existing key of a small map
		return func() { hdr8["Content-Type"] = vals1 }
	case "maplookup": // look up a missing key
		return func() {
			if _, ok := hdr1["Trailer"]; ok {
				sink = ""
			}
		}
	case "mapiter": // range over a one-entry map
		return func() {
			for k := range hdr1 {
				sink = k
			}
		}
	case "typeassert": // interface-to-interface assertion, as in io.WriteString
		return func() {
			if s, ok := w.(io.StringWriter); ok {
				_ = s
			}
		}
	case "canonicalkey": // what http.Header.Set does to its key
		return func() { sink = http.CanonicalHeaderKey("Content-Type") }
	}
	return call
}
