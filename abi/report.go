package abi

import (
	"fmt"
	"sort"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// WASIModuleName is the WASI import module the host also provides.
const WASIModuleName = "wasi_snapshot_preview1"

// Report describes how a compiled module fits the handler ABI, for
// `wasmserve check`. Problems lists every reason the module cannot run; an
// empty list means it can (as far as a static look can tell).
type Report struct {
	// ABI names the guest ABI detected: "http-wasm handler" when the module
	// imports http_handler or exports handle_request, else "none".
	ABI string
	// Start is the start function the host calls: "_initialize",
	// "_start", or "" for none.
	Start string
	// Provided lists the http_handler functions the module imports that
	// the host provides, sorted.
	Provided []string
	// Unknown lists the http_handler imports the host does not provide or
	// provides with another signature, sorted.
	Unknown []string
	// OtherImports lists imports from other modules as "module.name",
	// sorted; those from WASI and from a registered [Extension] are
	// provided, any other is a problem.
	OtherImports []string
	// MissingExports lists the required exports the module lacks.
	MissingExports []string
	// MemoryMin and MemoryMax are the exported memory's limits in 64 KiB
	// pages; MemoryMax is 0 when HasMemoryMax is false.
	MemoryMin, MemoryMax uint32
	// HasMemoryMax reports whether the memory declares a maximum.
	HasMemoryMax bool
	// Problems lists every reason the module cannot run.
	Problems []string
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Inspect reports how cm fits the handler ABI. It finds what [Validate]
// finds, and lists everything rather than stopping at the first problem.
func Inspect(cm wazero.CompiledModule) *Report {
	r := &Report{ABI: "none"}
	exports := cm.ExportedFunctions()
	for _, name := range []string{"_initialize", "_start"} {
		if _, ok := exports[name]; ok {
			r.Start = name
			break
		}
	}
	importsHandler := false
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch mod {
		case ModuleName:
			importsHandler = true
			want, ok := Signatures[name]
			switch {
			case !ok:
				r.Unknown = append(r.Unknown, name)
				r.problem("imports %s.%s, which the http-wasm handler ABI does not define", mod, name)
			case !sameTypes(f.ParamTypes(), want.Params) || !sameTypes(f.ResultTypes(), want.Results):
				r.Unknown = append(r.Unknown, name+" (wrong signature)")
				r.problem("imports %s.%s with the wrong signature", mod, name)
			default:
				r.Provided = append(r.Provided, name)
			}
		case WASIModuleName:
			r.OtherImports = append(r.OtherImports, mod+"."+name)
		default:
			if e := extension(mod); e != nil {
				r.OtherImports = append(r.OtherImports, mod+"."+name)
				if err := e.CheckImport(name, f.ParamTypes(), f.ResultTypes()); err != nil {
					r.problem("imports %s.%s: %v", mod, name, err)
				}
				continue
			}
			r.OtherImports = append(r.OtherImports, mod+"."+name)
			r.problem("imports %s.%s: wasmserve provides only %s, %s and its extensions", mod, name, ModuleName, WASIModuleName)
		}
	}
	for _, m := range cm.ImportedMemories() {
		mod, name, _ := m.Import()
		r.problem("imports its memory from %s.%s: a guest must define and export its own", mod, name)
	}

	hr, hasHR := exports[ExportHandleRequest]
	if importsHandler || hasHR {
		r.ABI = "http-wasm handler"
	}
	if !hasHR {
		r.MissingExports = append(r.MissingExports, ExportHandleRequest)
		r.problem("does not export %q: it is not an http-wasm handler", ExportHandleRequest)
	} else if !sameTypes(hr.ParamTypes(), nil) || !sameTypes(hr.ResultTypes(), sig(i64)) {
		r.problem("exports %q with the wrong signature: want () -> i64", ExportHandleRequest)
	}
	if hs, ok := exports[ExportHandleResponse]; ok &&
		(!sameTypes(hs.ParamTypes(), sig(i32, i32)) || !sameTypes(hs.ResultTypes(), nil)) {
		r.problem("exports %q with the wrong signature: want (i32, i32) -> ()", ExportHandleResponse)
	} else if !ok {
		// Optional: only a guest that returns next=1 needs it.
		r.MissingExports = append(r.MissingExports, ExportHandleResponse+" (optional)")
	}
	if mem, ok := cm.ExportedMemories()[ExportMemory]; ok {
		r.MemoryMin = mem.Min()
		r.MemoryMax, r.HasMemoryMax = mem.Max()
	} else {
		r.MissingExports = append(r.MissingExports, ExportMemory)
		r.problem("does not export %q: an http-wasm guest must export its memory", ExportMemory)
	}
	sort.Strings(r.Provided)
	sort.Strings(r.Unknown)
	sort.Strings(r.OtherImports)
	return r
}

// An Extension is an import module wasmserve provides beyond http_handler
// and WASI, offered to every guest (outbound HTTP, package abi/outbound).
type Extension interface {
	// Module is the import module's name.
	Module() string
	// CheckImport says why an import of the function name with these
	// types does not fit; nil when it does.
	CheckImport(name string, params, results []api.ValueType) error
}

var (
	extMu      sync.Mutex
	extensions = map[string]Extension{}
)

// RegisterExtension makes [Inspect] accept imports of e's module, checking
// them with e. An extension's package registers it from its init.
func RegisterExtension(e Extension) {
	extMu.Lock()
	defer extMu.Unlock()
	extensions[e.Module()] = e
}

func extension(module string) Extension {
	extMu.Lock()
	defer extMu.Unlock()
	return extensions[module]
}

// LookupExtension returns the registered extension of an import module,
// for an executor's own check of a module's imports.
func LookupExtension(module string) (Extension, bool) {
	e := extension(module)
	return e, e != nil
}
