package executor

import (
	"fmt"
	"slices"
)

// Report describes how a compiled module fits an executor, for `wasmserve
// check`. Problems lists every reason the module cannot run; an empty list
// means it can (as far as a static look can tell).
type Report struct {
	// ABI names the guest ABI detected: the executor's Title, or "none"
	// when the module does not look like one of its guests.
	ABI string
	// Start is the start function the host calls: "_initialize",
	// "_start", or "" for none.
	Start string
	// Provided lists the functions of the executor's own import module
	// (http_handler) that the module imports and the host provides,
	// sorted.
	Provided []string
	// Unknown lists the imports of the executor's own import module that
	// the host does not provide or provides with another signature,
	// sorted.
	Unknown []string
	// OtherImports lists imports from other modules as "module.name",
	// sorted; those from WASI and from the handler's extensions are
	// provided, any other is a problem.
	OtherImports []string
	// MissingExports lists the required exports the module lacks.
	MissingExports []string
	// MemoryMin and MemoryMax are the exported memory's limits in 64 KiB
	// pages; MemoryMax is 0 when HasMemoryMax is false.
	MemoryMin, MemoryMax uint32
	// HasMemoryMax reports whether the memory declares a maximum.
	HasMemoryMax bool
	// Component is set for a component (WASI 0.2): Imports and Exports
	// then describe it, and the core module fields above are empty.
	Component bool
	// Imports lists a component's imports by name
	// ("wasi:io/streams@0.2.0"), each once.
	Imports []string
	// Exports lists a component's exports by name, an exported
	// instance's functions after it ("wasi:http/incoming-handler@0.2.0#handle").
	Exports []string
	// Problems lists every reason the module cannot run.
	Problems []string
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Problem adds a problem, formatted as by fmt.Sprintf.
func (r *Report) Problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// LookupChecker returns the checker of the import module named module
// among exts.
func LookupChecker(exts []ImportChecker, module string) (ImportChecker, bool) {
	for _, e := range exts {
		if e.ModuleName() == module {
			return e, true
		}
	}
	return nil, false
}

// Tidy sorts the report's lists and drops repeated entries: a module may
// import one function more than once (Go's wasip1 port imports fd_write and
// random_get twice).
func (r *Report) Tidy() {
	for _, l := range []*[]string{&r.Provided, &r.Unknown, &r.OtherImports} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
}

// GoJSModule is the import module of Go's GOOS=js port, which runs only in
// a JavaScript host.
const GoJSModule = "gojs"

// GoJSProblem is the problem of a module built for GOOS=js, said once in
// place of one per import.
const GoJSProblem = "was built with GOOS=js (it imports " + GoJSModule + "), which runs only under JavaScript: " +
	"rebuild it with GOOS=wasip1 GOARCH=wasm (and -buildmode=c-shared for an http-wasm handler)"
