package wasmprep

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// MaxTableElements bounds every table a module defines, as the memory
// limit bounds its linear memory: a table is a slice of 8-byte references
// in the host's own heap, so a table without a maximum let one table.grow
// ask the Go runtime for gigabytes, and a refused allocation of that size
// is a fatal error that no recover catches: the whole server died
// (host's TestTableGrowIsBounded). 1 Mi elements (8 MiB) is far above what
// compilers emit (tables hold the functions called indirectly: a few
// thousand for a Go program).
const MaxTableElements = 1 << 20

// LimitTables returns the module with capTables applied to its table
// section, or m itself when every table already has a maximum within the
// bound.
func (m *Module) LimitTables() (*Module, error) {
	i := slices.IndexFunc(m.secs, func(s wasmbin.Section) bool { return s.ID == wasmbin.SecTable })
	if i < 0 {
		return m, nil
	}
	body, err := capTables(m.secs[i].Body)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(body, m.secs[i].Body) {
		return m, nil
	}
	// The sections again, each header in its shortest form, the table
	// section's body replaced; the rest of what Parse read stays true.
	out := make([]byte, 0, len(m.wasm)+len(body)-len(m.secs[i].Body)+8)
	out = append(out, m.wasm[:8]...)
	secs := slices.Clone(m.secs)
	for j := range secs {
		if j == i {
			secs[j].Body = body
		}
		out = wasmbin.AppendSection(out, secs[j].ID, secs[j].Body)
		secs[j].Offset = len(out) - len(secs[j].Body)
	}
	for j := range secs {
		secs[j].Body = out[secs[j].Offset : secs[j].Offset+len(secs[j].Body)]
	}
	return &Module{wasm: out, secs: secs, imports: m.imports, exports: m.exports}, nil
}

// capTables returns the table section body with every table's maximum at
// most MaxTableElements, so that table.grow beyond it returns -1 inside the
// guest, as the spec has it for growth past a maximum. A table whose
// minimum is above the bound is refused: it could never be instantiated
// within it.
func capTables(body []byte) ([]byte, error) {
	r := wasmbin.Reader{B: body}
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	out := wasmbin.AppendU32(make([]byte, 0, len(body)+8*int(min(n, 1024))), n)
	for i := range n {
		start := r.Pos
		t, err := r.Byte()
		if err != nil {
			return nil, err
		}
		if t == 0x63 || t == 0x64 { // a typed reference: its heap type follows
			if _, err := r.LEB(33, true); err != nil {
				return nil, err
			}
		}
		out = append(out, body[start:r.Pos]...)
		l, err := r.Limits()
		if err != nil {
			return nil, err
		}
		if l.Flags > 0x01 {
			return nil, fmt.Errorf("table %d: limits flags 0x%02x (a shared or 64-bit table) are not supported", i, l.Flags)
		}
		if l.Min > MaxTableElements {
			return nil, fmt.Errorf("table %d needs %d elements at start, above the %d a table may have", i, l.Min, MaxTableElements)
		}
		max := uint64(MaxTableElements)
		if l.HasMax {
			max = min(max, l.Max)
		}
		out = append(out, 0x01)
		out = wasmbin.AppendU32(out, uint32(l.Min))
		out = wasmbin.AppendU32(out, uint32(max))
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%d bytes after the last table", r.Len())
	}
	return out, nil
}
