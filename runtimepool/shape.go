package runtimepool

import (
	"fmt"
	"slices"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// Shape is what a module imports and exports, read from its bytes without
// compiling it, so that a caller can choose how to run the module (and so
// configure its pool) before paying for the compilation.
type Shape struct {
	// ImportModules are the modules it imports anything from, each once,
	// in the order of their first import.
	ImportModules []string
	// Funcs are the names of its exported functions, in order.
	Funcs []string
}

// Imports reports whether the module imports anything from module.
func (s Shape) Imports(module string) bool { return slices.Contains(s.ImportModules, module) }

// Exports reports whether the module exports a function named name.
func (s Shape) Exports(name string) bool { return slices.Contains(s.Funcs, name) }

// ReadShape reads the import and export sections of wasm, after the
// structural pre-check (wasmbin.Check, whose *wasmbin.FormatError it
// returns). A module it accepts may still fail to compile.
func ReadShape(wasm []byte) (Shape, error) {
	var sh Shape
	if err := wasmbin.Check(wasm); err != nil {
		return sh, err
	}
	secs, err := wasmbin.Sections(wasm)
	if err != nil {
		return sh, err
	}
	for _, s := range secs {
		switch s.ID {
		case wasmbin.SecImport:
			im, err := scanImports(s.Body)
			if err != nil {
				return sh, malformed(s, err)
			}
			sh.ImportModules = im.modules
		case wasmbin.SecExport:
			if err := sh.readExports(s.Body); err != nil {
				return sh, malformed(s, err)
			}
			return sh, nil // the sections after it hold no imports or exports
		}
	}
	return sh, nil
}

func (sh *Shape) readExports(body []byte) error {
	r := wasmbin.Reader{B: body}
	n, err := r.U32()
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		name, err := r.Name()
		if err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		kind, err := r.Byte()
		if err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		if _, err := r.U32(); err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		if kind == wasmbin.ExternFunc {
			sh.Funcs = append(sh.Funcs, name)
		}
	}
	return nil
}
