package cabi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// JCOEnv names the jco command for TestJCO when it is not on the PATH.
const jcoEnv = "WASMSERVE_JCO"

// byteMemory is a linear memory made of a byte slice.
type byteMemory []byte

func (m byteMemory) Size() uint32 { return uint32(len(m)) }

func (m byteMemory) Read(off, n uint32) ([]byte, bool) {
	if uint64(off)+uint64(n) > uint64(len(m)) {
		return nil, false
	}
	return m[off : off+n], true
}

// bumpHeap is the cabi_realloc of testdata/jco/probe.wat, in Go.
type bumpHeap struct {
	mem  byteMemory
	heap uint32
}

func (h *bumpHeap) realloc(_ context.Context, old, oldSize, align, newSize uint32) (uint32, error) {
	if old != 0 && newSize <= oldSize {
		return old, nil
	}
	ret := (h.heap + align - 1) &^ (align - 1)
	copy(h.mem[ret:ret+oldSize], h.mem[old:old+oldSize])
	h.heap = ret + newSize
	return ret, nil
}

// TestJCO is a differential test against jco, the JavaScript host of the
// component model. jco's glue lowers values into a core module's memory
// (testdata/jco/probe.wat): the same values lowered by this package must
// give the same bytes, and this package must lift jco's bytes back to them.
// And jco's glue lifts values this package stored.
func TestJCO(t *testing.T) {
	t.Parallel()
	// CI sets WASMSERVE_REQUIRE_COMPONENTS=1: there the test must run.
	skip := t.Skipf
	if os.Getenv("WASMSERVE_REQUIRE_COMPONENTS") == "1" {
		skip = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node is not installed: skipping the differential test against jco")
	}
	jco := os.Getenv(jcoEnv)
	if jco == "" {
		if jco, err = exec.LookPath("jco"); err != nil {
			skip("jco is not on the PATH and %s is not set: skipping the differential test against jco "+
				"(npm install @bytecodealliance/jco)", jcoEnv)
		}
	}
	dir := t.TempDir()
	run := func(name string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.Bytes())
		}
		return out
	}
	wat, err := filepath.Abs("testdata/jco/probe.wat")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("testdata/jco/probe.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "probe.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	run(jco, "parse", wat, "-o", "probe.wasm")
	run(jco, "transpile", "probe.wasm", "-o", "out", "--name", "probe", "--quiet")

	rec := &cabi.Type{Kind: cabi.KindRecord, Name: "rec", Fields: []cabi.Field{
		{Name: "a", Type: cabi.U8Type}, {Name: "b", Type: cabi.StringType}, {Name: "c", Type: cabi.ListOf(cabi.U16Type)},
		{Name: "d", Type: cabi.OptionOf(cabi.F64Type)}, {Name: "e", Type: cabi.CharType},
	}}
	vari := &cabi.Type{Kind: cabi.KindVariant, Name: "var", Cases: []cabi.Case{
		{Name: "none"}, {Name: "num", Type: cabi.F32Type}, {Name: "text", Type: cabi.StringType}, {Name: "big", Type: cabi.U64Type},
	}}
	color := &cabi.Type{Kind: cabi.KindEnum, Name: "color", Labels: []string{"red", "green", "blue"}}
	perms := &cabi.Type{Kind: cabi.KindFlags, Name: "perms", Labels: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}}
	pad := make([]*cabi.Type, 16)
	padVals := make([]any, 16)
	for i := range pad {
		pad[i], padVals[i] = cabi.U32Type, uint32(i+1)
	}
	padType := cabi.TupleOf(pad...)
	const smiley = "😀"
	// How the bytes of the heap compare. jco passes an empty string as
	// the address 1 without calling realloc, where the specification calls
	// realloc(0, 0, 1, 0): only the values compare. A JavaScript string is
	// UTF-16 already, so jco allocates exactly what it takes in UTF-16,
	// where the specification, from a UTF-8 Go string, allocates the worst
	// case and shrinks it: the same bytes, and then zeros.
	const (
		exact = iota
		prefix
		valuesOnly
	)
	tests := []struct {
		name  string
		enc   cabi.StringEncoding
		t     *cabi.Type
		v     any
		bytes int
	}{
		{"string", cabi.UTF8, cabi.StringType, "héllo wörld 日本 " + smiley, exact},
		{"string empty", cabi.UTF8, cabi.StringType, "", valuesOnly},
		{"string utf16", cabi.UTF16, cabi.StringType, "héllo wörld 日本 " + smiley, prefix},
		{"string utf16 ascii", cabi.UTF16, cabi.StringType, "hello", exact},
		{"strings empty", cabi.UTF8, cabi.ListOf(cabi.StringType), []any{"a", "", "b"}, valuesOnly},
		{"strings", cabi.UTF8, cabi.ListOf(cabi.StringType), []any{"a", "bc", "ÿ", smiley}, exact},
		{"record", cabi.UTF8, rec, []any{uint8(7), "bee", []any{uint16(1), uint16(2), uint16(65535)}, cabi.Option{Some: true, Value: 2.5}, '😀'}, exact},
		{"record none", cabi.UTF8, rec, []any{uint8(255), "z", []any{}, cabi.Option{}, 'x'}, exact},
		{"variant text", cabi.UTF8, vari, cabi.Variant{Case: 2, Value: "hi"}, exact},
		{"variant big", cabi.UTF8, vari, cabi.Variant{Case: 3, Value: uint64(1<<63 + 5)}, exact},
		{"variant num", cabi.UTF8, vari, cabi.Variant{Case: 1, Value: float32(-1.5)}, exact},
		{"variant none", cabi.UTF8, vari, cabi.Variant{}, exact},
		{"result ok", cabi.UTF8, cabi.ResultOf(cabi.ListOf(cabi.U8Type), color), cabi.Result{Value: []byte{1, 2, 3}}, exact},
		{"result err", cabi.UTF8, cabi.ResultOf(cabi.ListOf(cabi.U8Type), color), cabi.Result{Err: true, Value: uint32(2)}, exact},
		{"flags", cabi.UTF8, perms, uint32(1<<0 | 1<<2 | 1<<8), exact},
		{"tuple", cabi.UTF8, cabi.TupleOf(cabi.S8Type, cabi.S16Type, cabi.S64Type, cabi.BoolType, cabi.F32Type, cabi.F64Type, cabi.U64Type),
			[]any{int8(-1), int16(-300), int64(-5), true, float32(1.5), -0.25, uint64(1<<64 - 1)}, exact},
		{"options", cabi.UTF8, cabi.ListOf(cabi.OptionOf(cabi.TupleOf(cabi.StringType, cabi.U32Type))),
			[]any{cabi.Option{Some: true, Value: []any{"x", uint32(1)}}, cabi.Option{}, cabi.Option{Some: true, Value: []any{"yz", uint32(4000000000)}}}, exact},
	}
	// Values this package stores, at the start of a heap at 1024, for
	// jco to lift (the lift-* exports of probe.wat), and what it lifts as
	// JSON.
	lifts := []struct {
		export string
		enc    cabi.StringEncoding
		t      *cabi.Type
		v      any
		json   string
	}{
		{"lift-string", cabi.UTF8, cabi.StringType, "héllo wörld 日本 " + smiley, `"héllo wörld 日本 😀"`},
		{"lift-string16", cabi.UTF16, cabi.StringType, "héllo wörld 日本 " + smiley, `"héllo wörld 日本 😀"`},
		{"lift-strings", cabi.UTF8, cabi.ListOf(cabi.StringType), []any{"a", "", "bc", "ÿ", smiley}, `["a", "", "bc", "ÿ", "😀"]`},
		{"lift-rec", cabi.UTF8, rec, []any{uint8(7), "bee", []any{uint16(1), uint16(2), uint16(65535)}, cabi.Option{Some: true, Value: 2.5}, '😀'},
			`{"a": 7, "b": "bee", "c": [1, 2, 65535], "d": 2.5, "e": "😀"}`},
		{"lift-var", cabi.UTF8, vari, cabi.Variant{Case: 3, Value: uint64(1<<63 + 5)}, `{"tag": "big", "val": "9223372036854775813"}`},
		{"lift-res", cabi.UTF8, cabi.ResultOf(cabi.ListOf(cabi.U8Type), color), cabi.Result{Err: true, Value: uint32(1)}, `{"thrown": "green"}`},
		{"lift-flags", cabi.UTF8, cabi.TupleOf(perms, perms), []any{uint32(1<<1 | 1<<7), uint32(0x1ff)},
			`[{"a": false, "b": true, "c": false, "d": false, "e": false, "f": false, "g": false, "h": true, "i": false},
			  {"a": true, "b": true, "c": true, "d": true, "e": true, "f": true, "g": true, "h": true, "i": true}]`},
		{"lift-tuple", cabi.UTF8, cabi.TupleOf(cabi.S8Type, cabi.S16Type, cabi.S64Type, cabi.BoolType, cabi.F32Type, cabi.F64Type, cabi.U64Type),
			[]any{int8(-128), int16(32767), int64(-1 << 63), false, float32(-0.5), 1e300, uint64(1 << 63)},
			`[-128, 32767, "-9223372036854775808", false, -0.5, 1e300, "9223372036854775808"]`},
		{"lift-opts", cabi.UTF8, cabi.ListOf(cabi.OptionOf(cabi.TupleOf(cabi.StringType, cabi.U32Type))),
			[]any{cabi.Option{}, cabi.Option{Some: true, Value: []any{"yz", uint32(4000000000)}}}, `[null, ["yz", 4000000000]]`},
	}
	images := map[string]string{}
	for _, tc := range lifts {
		h := &bumpHeap{mem: make(byteMemory, 65536), heap: 1024}
		c := &cabi.Call{Ctx: context.Background(), Opts: &cabi.Options{Encoding: tc.enc, Memory: h.mem, Realloc: h.realloc}}
		p, _ := h.realloc(context.Background(), 0, 0, cabi.Align(tc.t), cabi.Size(tc.t))
		if p != 1024 {
			t.Fatalf("%s: a value at %d, not at the start of the heap", tc.export, p)
		}
		if err := cabi.Store(c, tc.t, tc.v, p); err != nil {
			t.Fatalf("%s: %v", tc.export, err)
		}
		images[tc.export] = hex.EncodeToString(h.mem[1024:h.heap])
	}
	imagesJSON, err := json.Marshal(images)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "images.json"), imagesJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Probes map[string]string
		Lifts  map[string]json.RawMessage
	}
	if err := json.Unmarshal(run(node, "probe.mjs"), &out); err != nil {
		t.Fatal(err)
	}
	dumps := out.Probes
	if len(dumps) != len(tests) || len(out.Lifts) != len(lifts) {
		t.Fatalf("probe.mjs ran %d probes and %d lifts, the test has %d and %d", len(dumps), len(out.Lifts), len(tests), len(lifts))
	}
	for _, tc := range lifts {
		t.Run(tc.export, func(t *testing.T) {
			var got, want any
			if err := json.Unmarshal(out.Lifts[tc.export], &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.json), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("jco lifted %s, want %s", out.Lifts[tc.export], tc.json)
			}
		})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dump, err := hex.DecodeString(dumps[tc.name])
			if err != nil || len(dump) < 1024 {
				t.Fatalf("probe.mjs printed %d bytes for the case, %v", len(dump), err)
			}
			params := []*cabi.Type{tc.t, padType}
			vals := []any{tc.v, padVals}
			argsPtr := binary.LittleEndian.Uint32(dump[24:])

			// What jco lowered, lifted here.
			c := &cabi.Call{Ctx: context.Background(), Opts: &cabi.Options{Encoding: tc.enc, Memory: byteMemory(dump)}}
			got, err := cabi.LiftArgs(c, params, []uint64{uint64(argsPtr)})
			if err != nil {
				t.Fatalf("LiftArgs of jco's bytes: %v", err)
			}
			if !reflect.DeepEqual(got, vals) {
				t.Fatalf("LiftArgs of jco's bytes = %#v, want %#v", got, vals)
			}

			// The same values lowered here, into the same allocator.
			h := &bumpHeap{mem: make(byteMemory, 65536), heap: 1024}
			c = &cabi.Call{Ctx: context.Background(), Opts: &cabi.Options{Encoding: tc.enc, Memory: h.mem, Realloc: h.realloc}}
			core, err := cabi.LowerArgs(c, params, vals)
			if err != nil {
				t.Fatal(err)
			}
			if len(core) != 1 || uint32(core[0]) != argsPtr {
				t.Fatalf("LowerArgs = %v, jco's arguments are at %d", core, argsPtr)
			}
			mine, theirs := h.mem[1024:h.heap], dump[1024:]
			switch tc.bytes {
			case valuesOnly:
				return
			case prefix:
				if len(mine) < len(theirs) || !bytes.Equal(mine[len(theirs):], make([]byte, len(mine)-len(theirs))) {
					t.Fatalf("lowered heap %x, jco's %x and then zeros", mine, theirs)
				}
				mine = mine[:len(theirs)]
			}
			if !bytes.Equal(mine, theirs) {
				t.Fatalf("lowered heap differs from jco's:\n mine  %x\n jco's %x", mine, theirs)
			}
		})
	}
}
