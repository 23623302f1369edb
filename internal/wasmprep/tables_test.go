package wasmprep

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// tables is a table section of one funcref table with the given limits
// (flags 0x00 without a maximum, 0x01 with one).
func tables(flags byte, limits ...uint32) []byte {
	body := []byte{1, 0x70, flags}
	for _, v := range limits {
		body = wasmbin.AppendU32(body, v)
	}
	return sec(wasmbin.SecTable, body...)
}

// tableModule is a module of tables(flags, limits...) alone.
func tableModule(flags byte, limits ...uint32) []byte { return module(tables(flags, limits...)) }

// manyTables is a module of n funcref tables, each of min elements and no
// maximum.
func manyTables(n int, min uint32) []byte {
	body := wasmbin.AppendU32(nil, uint32(n))
	for range n {
		body = wasmbin.AppendU32(append(body, 0x70, 0x00), min)
	}
	return module(sec(wasmbin.SecTable, body...))
}

// manyTablesMax is manyTables with each table's maximum its minimum.
func manyTablesMax(n int, min uint32) []byte {
	body := wasmbin.AppendU32(nil, uint32(n))
	for range n {
		body = wasmbin.AppendU32(wasmbin.AppendU32(append(body, 0x70, 0x01), min), min)
	}
	return module(sec(wasmbin.SecTable, body...))
}

// TestLimitTables: the tables leave with maximums of at most
// MaxTableElements together, one within it is left as it is, and a minimum
// above it, of one table or of all, is refused with a message naming the
// table and the bound.
func TestLimitTables(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		want    []byte // nil: the input unchanged
		refusal string
	}{
		{"no maximum", tableModule(0x00, 1), tableModule(0x01, 1, MaxTableElements), ""},
		{"maximum above the bound", tableModule(0x01, 1, 1<<30), tableModule(0x01, 1, MaxTableElements), ""},
		{"maximum within the bound", tableModule(0x01, 2, 100), nil, ""},
		{"sections before and after, a size's header longer than it needs", module(typeNop, tables(0x00, 1), mem1, []byte{0, 0x82, 0, 1, 'x'}),
			module(typeNop, tables(0x01, 1, MaxTableElements), mem1, sec(0, 1, 'x')), ""},
		{"minimum at the bound", tableModule(0x00, MaxTableElements), tableModule(0x01, MaxTableElements, MaxTableElements), ""},
		{"minimum above the bound", tableModule(0x00, MaxTableElements+1), nil, "table 0 needs 1048577 elements at start, above the 1048576"},
		{"64-bit table", tableModule(0x04, 1), nil, "limits flags 0x04"},
		{"two tables share the bound", module(sec(wasmbin.SecTable, 2, 0x70, 0x00, 0, 0x6f, 0x00, 0)),
			module(sec(wasmbin.SecTable, append(append([]byte{2, 0x70, 0x01, 0}, wasmbin.AppendU32(nil, MaxTableElements/2)...),
				append([]byte{0x6f, 0x01, 0}, wasmbin.AppendU32(nil, MaxTableElements/2)...)...)...)), ""},
		// Each keeps its minimum as its maximum: nothing is left to share.
		{"minimums within the bound together", manyTables(4, MaxTableElements/4), manyTablesMax(4, MaxTableElements/4), ""},
		{"minimums above the bound together", manyTables(3000, MaxTableElements), nil,
			"the module's tables need 2097152 elements at start in all (2 tables so far), above the 1048576 its tables may have together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			limited, err := m.LimitTables()
			if refused(t, err, tc.refusal) {
				return
			}
			want := tc.want
			if want == nil {
				want = tc.in
				if limited != m {
					t.Error("a module left as it is was copied")
				}
			}
			if got := limited.Bytes(); !bytes.Equal(got, want) {
				t.Errorf("got % x\nwant % x", got, want)
			}
			// The sections LimitTables kept are where a parse finds them.
			again, err := Parse(limited.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again.secs, limited.secs) {
				t.Errorf("sections %+v, a parse finds %+v", limited.secs, again.secs)
			}
		})
	}
}
