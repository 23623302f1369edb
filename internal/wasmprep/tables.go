package wasmprep

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// MaxTableElements bounds the tables a module defines, together, as the memory
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

// capTables returns the table section body with maximums that bound the
// module's tables together to MaxTableElements, so that table.grow beyond
// a table's share returns -1 inside the guest, as the spec has it for
// growth past a maximum. Each table keeps its minimum and gets a maximum
// of at most its minimum plus an equal share of what the minimums leave
// of the bound (a single table: the whole bound). Tables whose minimums
// are above the bound, alone or together, are refused: instantiating them
// would allocate that much before the guest ran (a few bytes of table
// section can declare thousands of tables of a million elements).
func capTables(body []byte) ([]byte, error) {
	r := wasmbin.Reader{B: body}
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	type table struct {
		typ    []byte // the reference type, as it was
		limits wasmbin.Limits
	}
	tabs := make([]table, 0, min(n, 1024))
	var mins uint64
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
		typ := body[start:r.Pos]
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
		if mins += l.Min; mins > MaxTableElements {
			return nil, fmt.Errorf("the module's tables need %d elements at start in all (%d tables so far), above the %d its tables may have together", mins, i+1, MaxTableElements)
		}
		tabs = append(tabs, table{typ, l})
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%d bytes after the last table", r.Len())
	}
	share := uint64(0)
	if len(tabs) > 0 {
		share = (MaxTableElements - mins) / uint64(len(tabs))
	}
	out := wasmbin.AppendU32(make([]byte, 0, len(body)+8*len(tabs)), n)
	for _, t := range tabs {
		max := t.limits.Min + share
		if t.limits.HasMax {
			max = min(max, t.limits.Max)
		}
		out = append(out, t.typ...)
		out = append(out, 0x01)
		out = wasmbin.AppendU32(out, uint32(t.limits.Min))
		out = wasmbin.AppendU32(out, uint32(max))
	}
	return out, nil
}
