package runtimepool

import (
	"bytes"
	"fmt"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// MaxTableElements bounds every table a module defines, as the memory
// limit bounds its linear memory: a table is a slice of 8-byte references
// in the host's own heap, so a table without a maximum let one table.grow
// ask the Go runtime for gigabytes, and a refused allocation of that size
// is a fatal error that no recover catches: the whole server died
// (TestTableGrowIsBounded). 1 Mi elements (8 MiB) is far above what
// compilers emit (tables hold the functions called indirectly: a few
// thousand for a Go program).
const MaxTableElements = 1 << 20

// limitTables returns wasm with capTables applied to its table section,
// or wasm itself when every table already has a maximum within the bound.
func limitTables(wasm []byte) ([]byte, error) {
	secs, err := wasmbin.Sections(wasm)
	if err != nil {
		return nil, err
	}
	for i, s := range secs {
		if s.ID != wasmbin.SecTable {
			continue
		}
		body, err := capTables(s.Body)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(body, s.Body) {
			return wasm, nil
		}
		// The sections again, each header in its shortest form, the
		// table section's body replaced.
		out := make([]byte, 0, len(wasm)+len(body)-len(s.Body)+8)
		out = append(out, wasm[:8]...)
		for j, t := range secs {
			b := t.Body
			if j == i {
				b = body
			}
			out = append(out, t.ID)
			out = wasmbin.AppendU32(out, uint32(len(b)))
			out = append(out, b...)
		}
		return out, nil
	}
	return wasm, nil
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
