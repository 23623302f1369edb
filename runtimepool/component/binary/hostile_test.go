package binary

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// leb is v as unsigned LEB128.
func leb(v uint32) []byte { return wasmbin.AppendU32(nil, v) }

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// sec is a section of id with body.
func sec(id byte, body ...[]byte) []byte {
	b := cat(body...)
	return cat([]byte{id}, leb(uint32(len(b))), b)
}

// comp is a component of the sections.
func comp(sections ...[]byte) []byte { return cat(append([][]byte{[]byte(Preamble)}, sections...)...) }

// str is a name: its length and bytes.
func str(s string) []byte { return cat(leb(uint32(len(s))), []byte(s)) }

// nestComponents returns n components nested in one another.
func nestComponents(n int) []byte {
	b := comp()
	for range n {
		b = comp(sec(4, b))
	}
	return b
}

// nestInstanceTypes returns a type section of n instance types nested in
// one another, each declaring the next as a type.
func nestInstanceTypes(n int) []byte {
	t := []byte{0x42, 0x00}
	for range n - 1 {
		t = cat([]byte{0x42, 0x01, 0x01}, t)
	}
	return sec(7, leb(1), t)
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	coreModule := []byte("\x00asm\x01\x00\x00\x00")
	tests := []struct {
		name string
		in   []byte
		// want is in the error; offset is the error's offset.
		want   string
		offset int
	}{
		{"empty", nil, "preamble at offset 0x0: not a WebAssembly binary", 0},
		{"core module", coreModule, "preamble at offset 0x4: a core module, not a component", 4},
		{"other version", []byte("\x00asm\x0e\x00\x01\x00"), "version and layer 0e 00 01 00", 4},
		{"unknown section", comp([]byte{13, 0}), "unknown (id 13) section at offset 0x8: unknown section id", 8},
		{"section size beyond the end", comp([]byte{7, 5, 1}), "type section at offset 0x9: section size 5 exceeds the 1 bytes left", 9},
		{"section size too long", comp([]byte{7, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), "integer too long for 32 bits", 9},
		{"section size overflow", comp([]byte{7, 0xff, 0xff, 0xff, 0xff, 0x7f}), "integer overflows 32 bits", 9},
		{"truncated size", comp([]byte{7, 0x80}), "truncated integer", 9},
		{"count beyond the bytes", comp(sec(7, leb(1000000), []byte{0x7f})), "type section at offset 0xa: 1000000 types cannot fit in the 1 bytes left", 10},
		{"bytes after the content", comp(sec(7, leb(1), []byte{0x7f, 0x00})), "1 bytes after the section's content", 12},
		{"unknown type", comp(sec(7, leb(1), []byte{0x50})), "unknown type 0x50", 11},
		{"invalid value type", comp(sec(7, leb(1), []byte{0x70, 0x72})), "invalid value type 0x72", 12},
		{"multi-byte negative value type", comp(sec(7, leb(1), []byte{0x70, 0xff, 0x7f})), "negative type index -1", 12},
		{"type index beyond 32 bits", comp(sec(7, leb(1), []byte{0x70, 0x80, 0x80, 0x80, 0x80, 0x10})), "integer overflows 33 bits", 12},
		{"fixed list of length 0", comp(sec(7, leb(1), []byte{0x67, 0x79, 0x00})), "fixed-length list of length 0", 13},
		{"resource of i64", comp(sec(7, leb(1), []byte{0x3f, 0x7e, 0x00})), "resource representation i64, want i32", 12},
		{"bad flag", comp(sec(7, leb(1), []byte{0x6b - 1, 0x02})), "result ok type: invalid flag 0x02", 12},
		{"variant case without its 0x00", comp(sec(7, leb(1), []byte{0x71, 0x01}, str("a"), []byte{0x00, 0x01})), "variant case: got 0x01, want 0x00", 16},
		{"name not UTF-8", comp(sec(7, leb(1), []byte{0x6d, 0x01, 0x01, 0xff})), "name is not valid UTF-8", 13},
		{"instance type import", comp(sec(7, leb(1), []byte{0x42, 0x01, 0x03, 0x00})), "unknown instance type declaration 0x03", 13},
		{"unknown canon", comp(sec(8, leb(1), []byte{0x08})), "canon section at offset 0xb: unknown canonical definition 0x08", 11},
		{"repeated canon option", comp(sec(8, leb(1), []byte{0x01, 0x00, 0x00, 0x02, 0x03, 0x00, 0x03, 0x00})), "canonical option 0x03 repeated or conflicting", 17},
		{"conflicting encodings", comp(sec(8, leb(1), []byte{0x01, 0x00, 0x00, 0x02, 0x00, 0x01})), "canonical option 0x01 repeated or conflicting", 16},
		{"unknown canon option", comp(sec(8, leb(1), []byte{0x01, 0x00, 0x00, 0x01, 0x09})), "unknown canonical option 0x09", 15},
		{"lower of a core sort", comp(sec(8, leb(1), []byte{0x01, 0x01, 0x00, 0x00})), "lower sort: got 0x01, want 0x00", 12},
		{"core module that is not one", comp(sec(1, []byte("\x00asm\x0d\x00\x01\x00"))), "core module section at offset 0xa: not a core module", 10},
		{"unknown sort", comp(sec(11, leb(1), []byte{0x00}, str("e"), []byte{0x06, 0x00, 0x00})), "unknown sort 0x06", 14},
		{"unknown core sort", comp(sec(6, leb(1), []byte{0x00, 0x05, 0x01, 0x00}, str("e"))), "unknown core sort 0x05", 12},
		{"unknown alias", comp(sec(6, leb(1), []byte{0x01, 0x03, 0x00})), "unknown alias 0x03", 12},
		{"unknown name form", comp(sec(10, leb(1), []byte{0x03}, str("a"), []byte{0x01, 0x00})), "unknown name form 0x03", 11},
		{"repeated attribute", comp(sec(10, leb(1), []byte{0x02}, str("a"), leb(2), []byte{0x01}, str(".1"), []byte{0x01}, str(".2"), []byte{0x01, 0x00})),
			"name attribute 0x01 repeated", 19},
		{"core module exported as a core func", comp(sec(10, leb(1), []byte{0x00}, str("a"), []byte{0x00, 0x00, 0x00})), "core func cannot be imported or exported", 14},
		{"core instance of an unknown form", comp(sec(2, leb(1), []byte{0x02, 0x00})), "unknown core instance 0x02", 11},
		{"core instantiation with a func", comp(sec(2, leb(1), []byte{0x00, 0x00, 0x01}, str("m"), []byte{0x00, 0x00})), "core instantiation argument sort: got 0x00, want 0x12", 16},
		{"unknown core type", comp(sec(3, leb(1), []byte{0x5a})), "unknown core type 0x5a", 11},
		{"unknown core value type", comp(sec(3, leb(1), []byte{0x60, 0x01, 0x40, 0x00})), "unknown core value type 0x40", 13},
		{"packed parameter", comp(sec(3, leb(1), []byte{0x60, 0x01, 0x78, 0x00})), "unknown core value type 0x78", 13},
		{"table of i32", comp(sec(3, leb(1), []byte{0x50, 0x01, 0x00}, str("m"), str("t"), []byte{0x01, 0x7f, 0x00, 0x01})), "table of i32, want a reference type", 19},
		{"limits flags", comp(sec(3, leb(1), []byte{0x50, 0x01, 0x00}, str("m"), str("t"), []byte{0x02, 0x08, 0x01})), "unknown limits flags 0x08", 19},
		{"module type alias of a func", comp(sec(3, leb(1), []byte{0x50, 0x01, 0x02, 0x00, 0x01, 0x00, 0x00})), "core module type alias of a core func, want core type", 14},
		{"components nested too deep", nestComponents(MaxDepth + 1), "component nested more than 100 deep", -1},
		{"types nested too deep", comp(nestInstanceTypes(MaxDepth + 1)), "instance type nested more than 100 deep", -1},
		{"error in a nested component", comp(sec(7, leb(1), []byte{0x7f}), sec(4, comp(sec(8, leb(1), []byte{0x08})))),
			"component binary: canon section at offset 0x19: unknown canonical definition 0x08", 0x19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Decode(tt.in)
			if err == nil {
				t.Fatalf("decoded %+v", c)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v", err, err)
			}
			if !strings.HasPrefix(err.Error(), "component binary: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %q", err, tt.want)
			}
			if tt.offset >= 0 && e.Offset != tt.offset {
				t.Errorf("offset %#x, want %#x: %v", e.Offset, tt.offset, err)
			}
		})
	}
}

func TestDepthLimit(t *testing.T) {
	t.Parallel()
	if _, err := Decode(nestComponents(MaxDepth)); err != nil {
		t.Errorf("components nested %d deep: %v", MaxDepth, err)
	}
	if _, err := Decode(comp(nestInstanceTypes(MaxDepth))); err != nil {
		t.Errorf("types nested %d deep: %v", MaxDepth, err)
	}
}

func TestItemLimit(t *testing.T) {
	t.Parallel()
	n := uint32(MaxItems + 1)
	in := comp(sec(7, leb(n), bytes.Repeat([]byte{0x7f}, int(n))))
	_, err := Decode(in)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d items", MaxItems)) {
		t.Errorf("error %v", err)
	}
	// MaxItems in all: the section and its types.
	in = comp(sec(7, leb(n-2), bytes.Repeat([]byte{0x7f}, int(n-2))))
	if _, err := Decode(in); err != nil {
		t.Errorf("%d items: %v", n-1, err)
	}
	in = comp(bytes.Repeat(sec(0, str("")), int(n)))
	if _, err := Decode(in); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d items", MaxItems)) {
		t.Errorf("%d sections: %v", n, err)
	}
	in = comp(sec(9, leb(0), leb(0), leb(n)))
	if _, err := Decode(in); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d items", MaxItems)) {
		t.Errorf("start of %d results: %v", n, err)
	}
}

// TestDecodeHandmade covers what the text format cannot write: value
// definitions, the external-id attribute, type indices beyond 63 (two
// bytes as s33) and the largest LEB128 numbers.
func TestDecodeHandmade(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want Section
	}{
		{"values", comp(sec(12, leb(2), []byte{0x79, 0x01, 0x2a}, []byte{0x73, 0x03, 0x02, 'h', 'i'})),
			&ValueSection{at: at{8}, Values: []Value{{prim(PrimU32), []byte{0x2a}}, {prim(PrimString), []byte{0x02, 'h', 'i'}}}}},
		{"external-id", comp(sec(11, leb(1), []byte{0x02}, str("run"), leb(2), []byte{0x02}, str("id-7"), []byte{0x00}, str("wasi:cli/run"), []byte{0x01, 0x00, 0x00})),
			&ExportSection{at: at{8}, Exports: []Export{{Name: "run", Attributes: Attributes{ExternalID: "id-7", Implements: "wasi:cli/run"}, Ref: SortIndex{SortFunc, 0}}}}},
		{"type index 64", comp(sec(7, leb(1), []byte{0x70, 0xc0, 0x00})),
			&TypeSection{at: at{8}, Types: []Type{&ListType{Elem: idx(64)}}}},
		{"largest type index", comp(sec(7, leb(1), []byte{0x70, 0xff, 0xff, 0xff, 0xff, 0x0f})),
			&TypeSection{at: at{8}, Types: []Type{&ListType{Elem: idx(1<<32 - 1)}}}},
		{"largest u32", comp(sec(7, leb(1), []byte{0x69, 0xff, 0xff, 0xff, 0xff, 0x0f})),
			&TypeSection{at: at{8}, Types: []Type{&OwnType{Resource: 1<<32 - 1}}}},
		{"padded u32", comp(sec(7, leb(1), []byte{0x69, 0x81, 0x80, 0x80, 0x80, 0x00})),
			&TypeSection{at: at{8}, Types: []Type{&OwnType{Resource: 1}}}},
		{"memory64", comp(sec(3, leb(1), []byte{0x50, 0x01, 0x00}, str("m"), str("mem"),
			[]byte{0x02, 0x05, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})),
			&CoreTypeSection{at: at{8}, Types: []CoreType{&CoreModuleType{Decls: []CoreModuleDecl{&CoreImport{Module: "m", Name: "mem",
				Type: CoreExternType{Sort: SortCoreMemory, Limits: Limits{Min: 1, Max: 1<<64 - 1, HasMax: true, Is64: true}}}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Decode(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Sections) != 1 || !reflect.DeepEqual(c.Sections[0], tt.want) {
				t.Errorf("decoded %#v\nwant %#v", c.Sections, tt.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"core sort", SortCoreMemory.String(), "core memory"},
		{"sort", SortInstance.String(), "instance"},
		{"bad sort", NumSorts.String(), "sort(13)"},
		{"prim", PrimErrorContext.String(), "error-context"},
		{"prim s64", PrimS64.String(), "s64"},
		{"kind", KindStream.String(), "stream"},
		{"canon", CanonErrorContextDebugMessage.String(), "error-context.debug-message"},
		{"unknown canon", CanonKind(0x08).String(), "canon(0x08)"},
		{"section", SectionCoreInstance.String(), "core instance"},
		{"encoding", Latin1UTF16.String(), "latin1+utf16"},
		{"alias", AliasCoreExport.String(), "core export"},
		{"sort index", SortIndex{SortCoreFunc, 3}.String(), "(core func 3)"},
		{"ref", CoreValType{Code: CoreRef, Heap: HeapType{Index: 4}}.String(), "(ref 4)"},
		{"extern", ExternType{Sort: SortCoreModule, Index: 2}.String(), "(core module (type 2))"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if !SortCoreInstance.IsCore() || SortFunc.IsCore() {
		t.Error("IsCore")
	}
}

// FuzzDecode feeds arbitrary bytes to Decode: it returns a component or an
// *Error, never panics, and a component it returns lists its index spaces.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.wasm")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(nestComponents(3))
	f.Add(comp(nestInstanceTypes(3)))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(b) {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		c.IndexSpaces()
		c.Imports()
		c.Exports()
		if _, err := c.Names(); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("names error %T %v", err, err)
			}
		}
	})
}

// TestMemoryBound decodes the inputs that take the most memory per byte,
// as many items as MaxItems allows, and checks what Decode allocated. Not
// parallel: it reads the process's allocation counter.
func TestMemoryBound(t *testing.T) {
	n := MaxItems - 1
	tests := []struct {
		name string
		in   []byte
	}{
		{"one-byte canons", comp(sec(8, leb(uint32(n)), bytes.Repeat([]byte{byte(CanonBackpressureInc)}, n)))},
		{"empty instance types", comp(sec(7, leb(uint32(n)), bytes.Repeat([]byte{0x42, 0x00}, n)))},
		{"export declarations", comp(sec(7, leb(1), []byte{0x42}, leb(uint32(n-1)), bytes.Repeat([]byte{0x04, 0x00, 0x00, 0x01, 0x00}, n-1)))},
		{"func types", comp(sec(3, leb(uint32(n)), bytes.Repeat([]byte{0x60, 0x00, 0x00}, n)))},
		{"empty sections", comp(bytes.Repeat(sec(0, str("")), n))},
	}
	const limit = 64 << 20
	for _, tt := range tests {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, err := Decode(tt.in)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > limit {
			t.Errorf("%s: %d bytes of input took %d MiB", tt.name, len(tt.in), got>>20)
		}
		runtime.KeepAlive(c)
	}
}
