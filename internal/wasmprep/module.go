// Package wasmprep prepares a WebAssembly module for the isolate pool:
// [Parse] reads the module once (the structural check of wasmbin, the
// sections split, the imports and exports decoded), and every analysis and
// rewrite reads the parsed [Module] rather than the bytes again: the shape
// by which the host chooses an executor, the memory limits, the table
// limits, the interruptible rewrite with its data merge, and whether an
// instance can be reset to its state after start.
package wasmprep

import (
	"fmt"
	"slices"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// Module is a module that passed the structural pre-check, split into its
// sections, with its imports and exports decoded. It is never changed: a
// pass that changes the module returns a new one. Its methods are safe for
// concurrent use.
type Module struct {
	wasm    []byte
	secs    []wasmbin.Section
	imports imports
	exports []export
}

// export is one entry of the export section.
type export struct {
	name string
	kind byte
}

// Parse runs the structural pre-check over wasm (wasmbin.Check, whose
// *wasmbin.FormatError it returns), keeps where each section lies, and
// decodes the import and export sections. A module it accepts may still
// fail to compile. wasm must not change while the Module is in use.
func Parse(wasm []byte) (*Module, error) {
	secs, err := wasmbin.CheckSections(wasm)
	if err != nil {
		return nil, err
	}
	return decode(wasm, secs)
}

// decode makes the Module of wasm, split into secs.
func decode(wasm []byte, secs []wasmbin.Section) (*Module, error) {
	var err error
	m := &Module{wasm: wasm, secs: secs}
	if s, ok := m.section(wasmbin.SecImport); ok {
		if m.imports, err = scanImports(s.Body); err != nil {
			return nil, malformed(s, err)
		}
	}
	if s, ok := m.section(wasmbin.SecExport); ok {
		if m.exports, err = scanExports(s.Body); err != nil {
			return nil, malformed(s, err)
		}
	}
	return m, nil
}

// Bytes returns the module's binary. The caller must not change it.
func (m *Module) Bytes() []byte { return m.wasm }

// section returns the module's section with the given id, which is not a
// custom one (those may appear more than once).
func (m *Module) section(id byte) (wasmbin.Section, bool) {
	for _, s := range m.secs {
		if s.ID == id {
			return s, true
		}
	}
	return wasmbin.Section{}, false
}

// malformed reports a section that could not be read as a
// *wasmbin.FormatError, which the pool refuses rather than serve the module
// some other way.
func malformed(s wasmbin.Section, err error) error {
	return &wasmbin.FormatError{Section: wasmbin.SectionName(s.ID), Offset: s.Offset, Reason: err.Error()}
}

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

// Shape returns what the module imports and exports.
func (m *Module) Shape() Shape {
	sh := Shape{ImportModules: slices.Clone(m.imports.modules)}
	for _, e := range m.exports {
		if e.kind == wasmbin.ExternFunc {
			sh.Funcs = append(sh.Funcs, e.name)
		}
	}
	return sh
}

// scanExports reads an export section.
func scanExports(body []byte) ([]export, error) {
	r := wasmbin.Reader{B: body}
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	var exports []export
	for i := uint32(0); i < n; i++ {
		name, err := r.Name()
		if err != nil {
			return nil, fmt.Errorf("export %d: %w", i, err)
		}
		kind, err := r.Byte()
		if err != nil {
			return nil, fmt.Errorf("export %d: %w", i, err)
		}
		if _, err := r.U32(); err != nil {
			return nil, fmt.Errorf("export %d: %w", i, err)
		}
		exports = append(exports, export{name, kind})
	}
	return exports, nil
}
