package wasmprep

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// dataBody is a data section's contents: the segments, counted.
func dataBody(segs ...[]byte) []byte {
	body := wasmbin.AppendU32(nil, uint32(len(segs)))
	for _, s := range segs {
		body = append(body, s...)
	}
	return body
}

// dataModule is a module with one 1-page memory, exported, and the data
// section body.
func dataModule(body []byte) []byte {
	return module(sec(5, 1, 0, 1), sec(7, 1, 3, 'm', 'e', 'm', 2, 0), sec(11, body...))
}

// active is an active segment of memory 0 at a constant offset.
func active(off int32, data string) []byte {
	b := append([]byte{0x00, 0x41}, wasmbin.AppendS32(nil, off)...)
	b = append(b, 0x0B)
	return append(wasmbin.AppendU32(b, uint32(len(data))), data...)
}

// memoryAfter instantiates wasm and returns its memory.
func memoryAfter(t *testing.T, wasm []byte) []byte {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	mem := mod.ExportedMemory("mem")
	b, _ := mem.Read(0, mem.Size())
	return bytes.Clone(b)
}

// TestMergeData: the merged section writes the same memory as the original
// with fewer segments, and what cannot merge stays as it was.
func TestMergeData(t *testing.T) {
	global := append([]byte{0x00, 0x23, 0x00, 0x0B}, 1, 'g')
	passive := []byte{0x01, 2, 'p', 'q'}
	cases := []struct {
		name   string
		segs   [][]byte
		merged bool
		count  uint32
	}{
		{"adjacent", [][]byte{active(0, "ab"), active(2, "cd")}, true, 1},
		{"a small gap of zeros", [][]byte{active(0, "ab"), active(100, "cd")}, true, 1},
		{"a gap too wide", [][]byte{active(0, "ab"), active(2+maxDataGap+1, "cd")}, false, 2},
		{"overlap: the later wins", [][]byte{active(10, "aaaa"), active(12, "bbbbbb"), active(11, "c")}, true, 1},
		{"going back starts a new segment", [][]byte{active(20, "xx"), active(10, "yy"), active(12, "zz")}, true, 2},
		{"no zeros over an earlier segment", [][]byte{active(50, "zz"), active(0, "ab"), active(100, "cd")}, false, 3},
		{"one segment", [][]byte{active(5, "only")}, false, 1},
		{"a passive segment is kept between", [][]byte{active(0, "a"), active(1, "b"), passive, active(2, "c"), active(3, "d")}, true, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := dataBody(c.segs...)
			out, merged, err := mergeData(body)
			if err != nil {
				t.Fatal(err)
			}
			if merged != c.merged {
				t.Errorf("merged %v, want %v", merged, c.merged)
			}
			if n, _ := (&wasmbin.Reader{B: out}).U32(); n != c.count {
				t.Errorf("%d segments, want %d", n, c.count)
			}
			if got, want := memoryAfter(t, dataModule(out)), memoryAfter(t, dataModule(body)); !bytes.Equal(got, want) {
				t.Errorf("memory differs after the merge")
			}
		})
	}
	t.Run("global offset kept", func(t *testing.T) {
		out, merged, err := mergeData(dataBody(active(0, "a"), global))
		if err != nil || merged || !bytes.Contains(out, global) {
			t.Errorf("merged %v, err %v: the global.get segment must stay", merged, err)
		}
	})
}

// FuzzMergeData: whatever segments the input makes, the merged section
// writes the same memory.
func FuzzMergeData(f *testing.F) {
	f.Add([]byte{50, 2, 'z', 'z', 0, 2, 'a', 'b', 100, 2, 'c', 'd'})
	f.Add([]byte{10, 4, 'a', 'a', 'a', 'a', 12, 6, 'b', 'b', 'b', 'b', 'b', 'b', 11, 1, 'c'})
	f.Fuzz(func(t *testing.T, in []byte) {
		// Each segment: an offset byte (times 16), a length byte, data.
		var segs [][]byte
		for len(in) >= 2 && len(segs) < 64 {
			off, n := int32(in[0])*16, int(in[1])%32
			in = in[2:]
			n = min(n, len(in))
			segs = append(segs, active(off, string(in[:n])))
			in = in[n:]
		}
		body := dataBody(segs...)
		out, _, err := mergeData(body)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := memoryAfter(t, dataModule(out)), memoryAfter(t, dataModule(body)); !bytes.Equal(got, want) {
			t.Fatalf("memory differs after merging %d segments", len(segs))
		}
	})
}
