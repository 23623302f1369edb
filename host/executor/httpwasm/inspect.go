package httpwasm

import (
	"errors"
	"strings"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/abi"
	"github.com/wasmserve/wasmserve/host/executor"
)

// Inspect reports how cm fits the handler ABI, listing every problem: its
// imports of http_handler against [abi.Functions], its exports against
// [abi.Exports] and [abi.ExportMemory], and its other imports, which only
// WASI and the extensions exts may provide. [Validate] refuses a module for
// the same problems.
func Inspect(cm wazero.CompiledModule, exts []executor.ImportChecker) *executor.Report {
	r := &executor.Report{ABI: "none"}
	exports := cm.ExportedFunctions()
	for _, name := range []string{"_initialize", "_start"} {
		if _, ok := exports[name]; ok {
			r.Start = name
			break
		}
	}
	importsHandler, goJS := false, false
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch mod {
		case executor.GoJSModule:
			r.OtherImports = append(r.OtherImports, mod+"."+name)
			if !goJS {
				goJS = true
				r.Problem(executor.GoJSProblem)
			}
		case abi.ModuleName:
			importsHandler = true
			want, ok := abi.Functions.Lookup(name)
			switch {
			case !ok:
				r.Unknown = append(r.Unknown, name)
				r.Problem("imports %s.%s, which the http-wasm handler ABI does not define", mod, name)
			case !want.Match(f.ParamTypes(), f.ResultTypes()):
				r.Unknown = append(r.Unknown, name+" (wrong signature)")
				r.Problem("imports %s.%s with the wrong signature: want %s", mod, name, want.Signature)
			default:
				r.Provided = append(r.Provided, name)
			}
		case abi.WASIModuleName:
			r.OtherImports = append(r.OtherImports, mod+"."+name)
		default:
			r.OtherImports = append(r.OtherImports, mod+"."+name)
			if e, ok := executor.LookupChecker(exts, mod); ok {
				if err := e.CheckImport(name, f.ParamTypes(), f.ResultTypes()); err != nil {
					r.Problem("imports %s.%s: %v", mod, name, err)
				}
				continue
			}
			r.Problem("imports %s.%s: wasmserve provides only %s, %s and its extensions", mod, name, abi.ModuleName, abi.WASIModuleName)
		}
	}
	for _, m := range cm.ImportedMemories() {
		mod, name, _ := m.Import()
		r.Problem("imports its memory from %s.%s: a guest must define and export its own", mod, name)
	}

	if _, hasHR := exports[abi.ExportHandleRequest]; importsHandler || hasHR {
		r.ABI = Title
	}
	for _, want := range abi.Exports {
		f, ok := exports[want.Name]
		switch {
		case !ok && want.Name == abi.ExportHandleRequest:
			r.MissingExports = append(r.MissingExports, want.Name)
			r.Problem("does not export %q: it is not an http-wasm handler", want.Name)
		case !ok:
			// Optional: only a guest that returns next=1 needs it.
			r.MissingExports = append(r.MissingExports, want.Name+" (optional)")
		case !want.Match(f.ParamTypes(), f.ResultTypes()):
			r.Problem("exports %q with the wrong signature: want %s", want.Name, want.Signature)
		}
	}
	if mem, ok := cm.ExportedMemories()[abi.ExportMemory]; ok {
		r.MemoryMin = mem.Min()
		r.MemoryMax, r.HasMemoryMax = mem.Max()
	} else {
		r.MissingExports = append(r.MissingExports, abi.ExportMemory)
		r.Problem("does not export %q: an http-wasm guest must export its memory", abi.ExportMemory)
	}
	r.Tidy()
	return r
}

// Validate refuses a module that does not fit the handler ABI, before it is
// instantiated: its error is made of every problem [Inspect] finds, the
// extensions exts providing the imports they check.
func Validate(cm wazero.CompiledModule, exts []executor.ImportChecker) error {
	r := Inspect(cm, exts)
	if r.OK() {
		return nil
	}
	return errors.New("module " + strings.Join(r.Problems, "; "))
}
