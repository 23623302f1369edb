package runtimepool

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// tableModule is a module of one funcref table with the given limits
// (flags 0x00 without a maximum, 0x01 with one).
func tableModule(flags byte, limits ...uint32) []byte {
	body := []byte{1, 0x70, flags}
	for _, v := range limits {
		body = wasmbin.AppendU32(body, v)
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, wasmbin.SecTable)
	m = wasmbin.AppendU32(m, uint32(len(body)))
	return append(m, body...)
}

// TestLimitTables: every table leaves with a maximum of at most
// MaxTableElements, one within it is left as it is, and a minimum above it
// is refused with a message naming the table and the bound.
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
		{"minimum at the bound", tableModule(0x00, MaxTableElements), tableModule(0x01, MaxTableElements, MaxTableElements), ""},
		{"minimum above the bound", tableModule(0x00, MaxTableElements+1), nil, "table 0 needs 1048577 elements at start, above the 1048576"},
		{"64-bit table", tableModule(0x04, 1), nil, "limits flags 0x04"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := limitTables(tc.in)
			if tc.refusal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refusal) {
					t.Fatalf("err %v, want one saying %q", err, tc.refusal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == nil {
				want = tc.in
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got % x\nwant % x", got, want)
			}
		})
	}
}

// TestPoolRefusesHugeTable: New refuses a table that could not be
// instantiated within MaxTableElements before wazero sees the module.
func TestPoolRefusesHugeTable(t *testing.T) {
	_, err := New(context.Background(), tableModule(0x00, 1<<27), Config[any]{Isolates: 1})
	if err == nil || !strings.Contains(err.Error(), "table 0 needs 134217728 elements") {
		t.Fatalf("err %v, want the table refused", err)
	}
}
