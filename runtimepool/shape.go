package runtimepool

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
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

// ReadShape reads the import and export sections of wasm. It reads no more
// than it needs and validates no more than that: a module it accepts may
// still fail to compile.
func ReadShape(wasm []byte) (Shape, error) {
	var sh Shape
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return sh, errors.New("not a WebAssembly binary (no \\0asm magic)")
	}
	r := reader{b: wasm, pos: 8}
	for r.pos < len(r.b) {
		id := r.b[r.pos]
		r.pos++
		size, err := r.u32()
		if err != nil {
			return sh, fmt.Errorf("section %d: size: %w", id, err)
		}
		if uint64(size) > uint64(len(r.b)-r.pos) {
			return sh, fmt.Errorf("section %d: size %d beyond the end of the module", id, size)
		}
		body := r.b[r.pos : r.pos+int(size)]
		r.pos += int(size)
		switch id {
		case secImport:
			im, err := scanImports(body)
			if err != nil {
				return sh, fmt.Errorf("import section: %w", err)
			}
			sh.ImportModules = im.modules
		case secExport:
			if err := sh.readExports(body); err != nil {
				return sh, fmt.Errorf("export section: %w", err)
			}
			return sh, nil // the sections after it hold no imports or exports
		}
	}
	return sh, nil
}

func (sh *Shape) readExports(body []byte) error {
	r := reader{b: body}
	n, err := r.u32()
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		name, err := r.name()
		if err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		kind, err := r.byte()
		if err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		if _, err := r.u32(); err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		if kind == 0x00 {
			sh.Funcs = append(sh.Funcs, name)
		}
	}
	return nil
}
