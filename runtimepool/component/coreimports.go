package component

import (
	"fmt"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// coreImport is one import of a core module: the module and field it
// names, and what it imports (0 function, 1 table, 2 memory, 3 global,
// 4 tag: the import description's tag).
type coreImport struct {
	Module, Name string
	Kind         byte
}

// coreImports lists a core module's imports in order.
func coreImports(mod []byte) ([]coreImport, error) {
	var out []coreImport
	_, err := walkImports(mod, func(imp coreImport) (string, string) {
		out = append(out, imp)
		return imp.Module, imp.Name
	}, false)
	return out, err
}

// renameImports returns mod with every import's module and field names
// replaced by what rename says, the rest of the module byte for byte. The
// linker uses it to point each import straight at the core instance that
// provides it: the names a component's instantiate arguments give are
// resolved once, at load, instead of per isolate.
func renameImports(mod []byte, rename func(coreImport) (string, string)) ([]byte, error) {
	return walkImports(mod, rename, true)
}

func walkImports(mod []byte, rename func(coreImport) (string, string), write bool) ([]byte, error) {
	secs, err := wasmbin.Sections(mod)
	if err != nil {
		return nil, err
	}
	var out []byte
	if write {
		out = append(make([]byte, 0, len(mod)+256), mod[:8]...)
	}
	for _, s := range secs {
		if s.ID != 2 { // not the import section
			if write {
				out = wasmbin.AppendSection(out, s.ID, s.Body)
			}
			continue
		}
		r := &wasmbin.Reader{B: s.Body}
		n, err := r.U32()
		if err != nil {
			return nil, fmt.Errorf("import section at offset %#x: %w", s.Offset, err)
		}
		var body []byte
		if write {
			body = wasmbin.AppendU32(make([]byte, 0, len(s.Body)+64*int(min(n, 1024))), n)
		}
		for i := uint32(0); i < n; i++ {
			at := s.Offset + r.Pos
			m, err := r.Name()
			if err != nil {
				return nil, fmt.Errorf("import %d at offset %#x: module name: %w", i, at, err)
			}
			f, err := r.Name()
			if err != nil {
				return nil, fmt.Errorf("import %d at offset %#x: field name: %w", i, at, err)
			}
			descAt := r.Pos
			kind, err := skipImportDesc(r)
			if err != nil {
				return nil, fmt.Errorf("import %d (%s.%s) at offset %#x: %w", i, m, f, at, err)
			}
			nm, nf := rename(coreImport{Module: m, Name: f, Kind: kind})
			if write {
				body = appendName(body, nm)
				body = appendName(body, nf)
				body = append(body, r.B[descAt:r.Pos]...)
			}
		}
		if r.Len() != 0 {
			return nil, fmt.Errorf("import section at offset %#x: %d bytes after the last import", s.Offset, r.Len())
		}
		if write {
			out = wasmbin.AppendSection(out, s.ID, body)
		}
	}
	return out, nil
}

func appendName(b []byte, s string) []byte {
	return append(wasmbin.AppendU32(b, uint32(len(s))), s...)
}

// skipImportDesc reads an import description and returns its tag.
func skipImportDesc(r *wasmbin.Reader) (byte, error) {
	kind, err := r.Byte()
	if err != nil {
		return 0, err
	}
	switch kind {
	case 0x00: // function: a type index
		_, err = r.U32()
	case 0x01: // table: a reference type and limits
		if err = skipValType(r); err == nil {
			_, err = r.Limits()
		}
	case 0x02: // memory: limits
		_, err = r.Limits()
	case 0x03: // global: a value type and mutability
		if err = skipValType(r); err == nil {
			_, err = r.Byte()
		}
	case 0x04: // tag: an attribute and a type index
		if _, err = r.Byte(); err == nil {
			_, err = r.U32()
		}
	default:
		return 0, fmt.Errorf("unknown import kind %#x", kind)
	}
	return kind, err
}

// skipValType reads a value type, with the typed-reference forms
// (ref null? heaptype) of the GC proposal.
func skipValType(r *wasmbin.Reader) error {
	t, err := r.Byte()
	if err != nil {
		return err
	}
	if t == 0x63 || t == 0x64 {
		_, err = r.LEB(33, true)
	}
	return err
}
