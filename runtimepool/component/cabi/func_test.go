package cabi

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func u32s(n int) []*Type {
	ts := make([]*Type, n)
	for i := range ts {
		ts[i] = U32Type
	}
	return ts
}

// TestRoundTripsFunc passes the values of the specification's round-trip
// cases as the arguments and the results of a function: lowered by the
// host and lifted by the guest, stored by the guest and loaded by the host.
func TestRoundTripsFunc(t *testing.T) {
	t.Parallel()
	seventeen := TupleOf(append(u32s(16), StringType)...)
	var big []any
	for i := range 16 {
		big = append(big, uint32(i+1))
	}
	big = append(big, "wat")
	tests := []struct {
		name string
		t    *Type
		v    any
	}{
		{"s8", S8Type, int8(-1)},
		{"tuple", TupleOf(U16Type, U16Type), []any{uint16(3), uint16(4)}},
		{"list of string", ListOf(StringType), []any{"hello there"}},
		{"list of lists", ListOf(ListOf(StringType)), []any{[]any{"one", "two"}, []any{"three"}}},
		{"list of option", ListOf(OptionOf(TupleOf(StringType, U16Type))), []any{Option{true, []any{"answer", uint16(42)}}}},
		{"variant of 17", variant(Case{"x", seventeen}), Variant{0, big}},
		{"bytes", ListOf(U8Type), []byte("bytes")},
		{"result", ResultOf(nil, enum("a", "b", "c")), Result{true, uint32(2)}},
	}
	for _, tc := range tests {
		for _, enc := range encodings {
			t.Run(tc.name+"/"+enc.String(), func(t *testing.T) {
				t.Parallel()
				h := newHeap(1000)
				c := h.call(enc)
				ts := []*Type{tc.t}
				core, err := LowerArgs(c, ts, []any{tc.v})
				if err != nil {
					t.Fatal(err)
				}
				got, err := LiftArgs(c, ts, core)
				if err != nil || !equalValues(got[0], tc.v) {
					t.Fatalf("LiftArgs = %#v, %v; want %#v", got, err, tc.v)
				}
				sig := FlatFunc(ts, ts, Lower)
				// The guest's return area, as a guest would allocate it.
				retptr, err := h.realloc(context.Background(), 0, 0, Align(tc.t), Size(tc.t))
				if err != nil {
					t.Fatal(err)
				}
				res, err := LowerResults(c, ts, got, append(core, uint64(retptr)))
				if err != nil {
					t.Fatal(err)
				}
				if sig.ResultsSpilled {
					if len(res) != 0 {
						t.Fatalf("LowerResults with a return pointer returned %v", res)
					}
					res = []uint64{uint64(retptr)}
				}
				back, err := LiftResults(c, ts, res)
				if err != nil || !equalValues(back[0], tc.v) {
					t.Fatalf("LiftResults = %#v, %v; want %#v", back, err, tc.v)
				}
			})
		}
	}
}

// TestSpilledParams checks the layout of spilled parameters: a tuple of
// the parameters at the address realloc returned.
func TestSpilledParams(t *testing.T) {
	t.Parallel()
	params := append(u32s(16), U8Type, U64Type)
	var vals []any
	for i := range 16 {
		vals = append(vals, uint32(i+1))
	}
	vals = append(vals, uint8(17), uint64(18))
	h := newHeap(256)
	h.last = 4 // the allocation must be aligned to 8
	c := h.call(UTF8)
	core, err := LowerArgs(c, params, vals)
	if err != nil {
		t.Fatal(err)
	}
	if len(core) != 1 || core[0] != 8 {
		t.Fatalf("LowerArgs = %v, want [8]", core)
	}
	if want := []reallocCall{{0, 0, 8, 80, 8}}; len(h.calls) != 1 || h.calls[0] != want[0] {
		t.Fatalf("realloc calls %+v, want %+v", h.calls, want)
	}
	for i := range 16 {
		if got := le.Uint32(h.mem.b[8+4*i:]); got != uint32(i+1) {
			t.Fatalf("param %d = %d", i, got)
		}
	}
	if h.mem.b[8+64] != 17 || le.Uint64(h.mem.b[8+72:]) != 18 {
		t.Fatalf("params 16, 17 = % x", h.mem.b[8+64:8+80])
	}
	got, err := LiftArgs(c, params, core)
	if err != nil || !equalValues(got, vals) {
		t.Fatalf("LiftArgs = %v, %v", got, err)
	}
	for _, tc := range []struct {
		name string
		ptr  uint64
		want string
	}{
		{"misaligned", 12, "params at 0xc is not aligned to 8"},
		{"past end", 184, "params at 0xb8 of 80 bytes past memory end 256"},
		{"high bits ignored", 1<<32 | 8, ""},
	} {
		_, err := LiftArgs(c, params, []uint64{tc.ptr})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: LiftArgs error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestStringRealloc checks the realloc calls lowering a string makes, which
// the specification fixes.
func TestStringRealloc(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		enc    StringEncoding
		s      string
		calls  []reallocCall
		tagged uint32
	}{
		{"utf8", UTF8, "héllo", []reallocCall{{0, 0, 1, 6, 0}}, 6},
		{"utf8 empty", UTF8, "", []reallocCall{{0, 0, 1, 0, 0}}, 0},
		{"utf16 shrinks", UTF16, "héllo", []reallocCall{{0, 0, 2, 12, 0}, {0, 12, 2, 10, 12}}, 5},
		{"utf16 ascii", UTF16, "hello", []reallocCall{{0, 0, 2, 10, 0}}, 5},
		{"utf16 surrogates", UTF16, "\U0001F600", []reallocCall{{0, 0, 2, 8, 0}, {0, 8, 2, 4, 8}}, 2},
		{"latin1 ascii", Latin1UTF16, "hello", []reallocCall{{0, 0, 2, 5, 0}}, 5},
		{"latin1 shrinks", Latin1UTF16, "héllo", []reallocCall{{0, 0, 2, 6, 0}, {0, 6, 2, 5, 6}}, 5},
		{"latin1 to utf16", Latin1UTF16, "ab\u0100", []reallocCall{{0, 0, 2, 4, 0}, {0, 4, 2, 8, 4}, {4, 8, 2, 6, 4}}, 3 | utf16Tag},
		{"utf16 from start", Latin1UTF16, "\u0100", []reallocCall{{0, 0, 2, 2, 0}, {0, 2, 2, 4, 2}, {2, 4, 2, 2, 2}}, 1 | utf16Tag},
		{"utf16 worst case", Latin1UTF16, "\U0001F600", []reallocCall{{0, 0, 2, 4, 0}, {0, 4, 2, 8, 4}, {4, 8, 2, 4, 4}}, 2 | utf16Tag},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHeap(64)
			c := h.call(tc.enc)
			flat, err := LowerFlat(c, StringType, tc.s, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(h.calls) != len(tc.calls) {
				t.Fatalf("realloc calls %+v, want %+v", h.calls, tc.calls)
			}
			for i := range h.calls {
				if h.calls[i] != tc.calls[i] {
					t.Fatalf("realloc calls %+v, want %+v", h.calls, tc.calls)
				}
			}
			if uint32(flat[1]) != tc.tagged || uint32(flat[0]) != tc.calls[len(tc.calls)-1].ret {
				t.Fatalf("LowerFlat = %#x, want pointer %#x length %#x", flat, tc.calls[len(tc.calls)-1].ret, tc.tagged)
			}
			back, err := LiftFlat(c, StringType, &flat)
			if err != nil || back != tc.s {
				t.Fatalf("LiftFlat = %q, %v", back, err)
			}
		})
	}
}

// TestLiftErrors feeds the guest's side of the boundary what the
// specification traps on.
func TestLiftErrors(t *testing.T) {
	t.Parallel()
	mem := make([]byte, 64)
	copy(mem[8:], []byte{0xff, 0xfe})              // not UTF-8
	copy(mem[16:], []byte{0x00, 0xd8, 'a', 0})     // lone high surrogate
	copy(mem[24:], []byte{0x00, 0xdc})             // lone low surrogate
	copy(mem[32:], []byte{0x3d, 0xd8, 0x00, 0xde}) // U+1F600
	copy(mem[40:], []byte{0xed, 0xa0, 0x80})       // a surrogate in UTF-8 (CESU-8)
	r := &Resource{Name: "fields"}
	tests := []struct {
		name    string
		enc     StringEncoding
		t       *Type
		core    []uint64
		want    any
		wantErr string
	}{
		{"string past end", UTF8, StringType, []uint64{16, 99999}, nil, "utf8 string at 0x10 of 99999 bytes past memory end 64"},
		{"string at end", UTF8, StringType, []uint64{64, 0}, "", ""},
		{"string after end", UTF8, StringType, []uint64{65, 0}, nil, "past memory end 64"},
		{"string too long", UTF8, StringType, []uint64{0, 1 << 28}, nil, "more than 268435455"},
		{"utf16 too long", UTF16, StringType, []uint64{0, 1 << 27}, nil, "more than 268435455"},
		{"utf16 wraps", UTF16, StringType, []uint64{0, 1<<31 + 1}, nil, "more than 268435455"},
		{"not utf8", UTF8, StringType, []uint64{8, 2}, nil, "not valid UTF-8"},
		{"utf8 surrogate", UTF8, StringType, []uint64{40, 3}, nil, "not valid UTF-8"},
		{"lone high surrogate", UTF16, StringType, []uint64{16, 2}, nil, "unpaired surrogate at code unit 0"},
		{"high surrogate at end", UTF16, StringType, []uint64{16, 1}, nil, "unpaired surrogate at code unit 0"},
		{"lone low surrogate", UTF16, StringType, []uint64{24, 1}, nil, "unpaired surrogate"},
		{"pair", UTF16, StringType, []uint64{32, 2}, "\U0001F600", ""},
		{"tagged pair", Latin1UTF16, StringType, []uint64{32, 2 | utf16Tag}, "\U0001F600", ""},
		{"latin1", Latin1UTF16, StringType, []uint64{8, 2}, "\u00ff\u00fe", ""},
		{"utf16 misaligned", UTF16, StringType, []uint64{33, 1}, nil, "utf16 string at 0x21 is not aligned to 2"},
		{"latin1 misaligned", Latin1UTF16, StringType, []uint64{33, 1}, nil, "not aligned to 2"},
		{"own without handles", UTF8, &Type{Kind: KindOwn, Resource: r}, []uint64{1}, nil, "own<fields> needs resource handles"},
		{"list without memory", UTF8, ListOf(U8Type), []uint64{0, 0}, nil, "list<u8> needs memory, and the function has none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := memCall(mem, tc.enc)
			if strings.Contains(tc.name, "without memory") {
				c.Opts.Memory = nil
			}
			vals := tc.core
			got, err := LiftFlat(c, tc.t, &vals)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Fatalf("LiftFlat = %#v, %v; want %#v", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "cabi: ") {
				t.Fatalf("LiftFlat = %#v, %v; want error containing %q", got, err, tc.wantErr)
			}
		})
	}
}

// TestLowerErrors gives the host's side of the boundary wrong values and
// guests that misbehave.
func TestLowerErrors(t *testing.T) {
	t.Parallel()
	r := &Resource{Name: "fields"}
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		t       *Type
		v       any
		realloc func(h *heap) Realloc // nil: the heap's
		noMem   bool
		wantErr string
	}{
		{"u8 as int", U8Type, 1, nil, false, "u8 value is int, want uint8"},
		{"string as bytes", StringType, []byte("x"), nil, false, "string value is []uint8, want string"},
		{"list as string", ListOf(U8Type), "x", nil, false, "list<u8> value is string, want []byte"},
		{"list as bytes", ListOf(U16Type), []byte{1}, nil, false, "list<u16> value is []uint8, want []any"},
		{"list element", ListOf(U16Type), []any{uint16(1), int16(2)}, nil, false, "u16 value is int16"},
		{"record arity", TupleOf(U8Type, U8Type), []any{uint8(1)}, nil, false, "has 1 fields, want 2"},
		{"variant case", variant(Case{"a", nil}), Variant{Case: 1}, nil, false, "discriminant 1 out of range (1 cases)"},
		{"variant type", variant(Case{"a", nil}), Option{}, nil, false, "want cabi.Variant"},
		{"option payload", OptionOf(U8Type), Option{true, "x"}, nil, false, "u8 value is string"},
		{"option none with a value", OptionOf(U8Type), Option{false, uint8(1)}, nil, false, "option<u8> case 0 has no payload, the value has a uint8"},
		{"result without payload", ResultOf(nil, U8Type), Result{false, "x"}, nil, false, "case 0 has no payload, the value has a string"},
		{"variant without payload", variant(Case{"a", nil}), Variant{0, 1}, nil, false, "case 0 has no payload"},
		{"missing payload", variant(Case{"a", U8Type}), Variant{0, nil}, nil, false, "u8 value is <nil>, want uint8"},
		{"enum range", enum("a"), uint32(1), nil, false, "discriminant 1 out of range"},
		{"flags bits", flags(3), uint32(8), nil, false, "value 0x8 has bits past its 3 labels"},
		{"surrogate char", CharType, rune(0xd800), nil, false, "char 0xd800 is not a Unicode scalar value"},
		{"negative char", CharType, rune(-1), nil, false, "not a Unicode scalar value"},
		{"invalid utf8", StringType, "a\xffb", nil, false, `string "a\xffb" is not valid UTF-8`},
		{"no memory", StringType, "x", nil, true, "string needs memory, and the function has none"},
		{"no realloc", ListOf(U8Type), []byte{1}, func(*heap) Realloc { return nil }, false,
			"list<u8> needs realloc, and the function has none"},
		{"realloc fails", StringType, "x", func(*heap) Realloc {
			return func(context.Context, uint32, uint32, uint32, uint32) (uint32, error) { return 0, errBoom }
		}, false, "realloc of 1 bytes for string: boom"},
		{"realloc misaligned", ListOf(U32Type), []any{uint32(1)}, func(*heap) Realloc {
			return func(context.Context, uint32, uint32, uint32, uint32) (uint32, error) { return 2, nil }
		}, false, "returned 0x2, not aligned to 4"},
		{"realloc past end", StringType, "xyz", func(*heap) Realloc {
			return func(context.Context, uint32, uint32, uint32, uint32) (uint32, error) { return 62, nil }
		}, false, "realloc of 3 bytes for string returned 0x3e, past memory end 64"},
		{"own without handles", &Type{Kind: KindOwn, Resource: r}, "x", nil, false, "own<fields> needs resource handles"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHeap(64)
			c := h.call(UTF8)
			if tc.realloc != nil {
				c.Opts.Realloc = tc.realloc(h)
			}
			if tc.noMem {
				c.Opts.Memory = nil
			}
			_, err := LowerFlat(c, tc.t, tc.v, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "cabi: ") {
				t.Fatalf("LowerFlat error %v, want one containing %q", err, tc.wantErr)
			}
			if tc.noMem {
				return
			}
			err = Store(c, TupleOf(tc.t), []any{tc.v}, 32)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Store error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestStoreLoadRange(t *testing.T) {
	t.Parallel()
	c := memCall(make([]byte, 16), UTF8)
	for _, tc := range []struct {
		name string
		t    *Type
		ptr  uint32
		want string
	}{
		{"misaligned", U32Type, 2, "u32 at 0x2 is not aligned to 4"},
		{"past end", U64Type, 16, "u64 at 0x10 of 8 bytes past memory end 16"},
		{"wraps", U64Type, 0xfffffff8, "past memory end 16"},
	} {
		if _, err := Load(c, tc.t, tc.ptr); err == nil || err.Error() != "cabi: "+tc.want && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Load error %v, want %q", tc.name, err, tc.want)
		}
		var v any = uint32(1)
		if tc.t.Kind == KindU64 {
			v = uint64(1)
		}
		if err := Store(c, tc.t, v, tc.ptr); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Store error %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := Store(c, U64Type, uint64(0x0102030405060708), 8); err != nil {
		t.Fatal(err)
	}
	if v, err := Load(c, U64Type, 8); err != nil || v != uint64(0x0102030405060708) {
		t.Fatalf("Load = %v, %v", v, err)
	}
}

// TestHandles lowers and lifts own and borrow handles through the linker's
// hooks.
func TestHandles(t *testing.T) {
	t.Parallel()
	fields := &Resource{Name: "fields"}
	body := &Resource{Name: "body"}
	own := &Type{Kind: KindOwn, Resource: fields}
	borrow := &Type{Kind: KindBorrow, Resource: fields}
	ownBody := &Type{Kind: KindOwn, Resource: body}
	h := newHeap(128)
	tab := newHandles()
	c := h.call(UTF8)
	c.Handles = tab
	params := []*Type{own, borrow, OptionOf(own)}
	core, err := LowerArgs(c, params, []any{"a", "b", Option{true, "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(core) != 4 || core[0] != 1 || core[1] != 2 || core[2] != 1 || core[3] != 3 {
		t.Fatalf("LowerArgs = %v, want [1 2 1 3]", core)
	}
	got, err := LiftArgs(c, []*Type{own, borrow, OptionOf(own)}, core)
	if err != nil || !equalValues(got, []any{"a", "b", Option{true, "c"}}) {
		t.Fatalf("LiftArgs = %v, %v", got, err)
	}
	if _, err := LiftArgs(c, []*Type{own}, core[:1]); err == nil || !strings.Contains(err.Error(), "own<fields> handle 1: no handle 1") {
		t.Fatalf("lifting a handle twice: %v", err)
	}
	hb, _ := tab.LowerOwn(body, "body")
	if _, err := LiftArgs(c, []*Type{own}, []uint64{uint64(hb)}); err == nil || !strings.Contains(err.Error(), "is a body, not a fields") {
		t.Fatalf("lifting a body as fields: %v", err)
	}
	if v, err := LiftArgs(c, []*Type{ownBody}, []uint64{uint64(hb)}); err != nil || v[0] != "body" {
		t.Fatalf("LiftArgs = %v, %v", v, err)
	}
	if err := Store(c, own, "d", 64); err != nil {
		t.Fatal(err)
	}
	if v, err := Load(c, own, 64); err != nil || v != "d" {
		t.Fatalf("Load = %v, %v", v, err)
	}
}

// TestFuncErrors: the function-level calls check counts, pointers and the
// core values they are given.
func TestFuncErrors(t *testing.T) {
	t.Parallel()
	h := newHeap(64)
	c := h.call(UTF8)
	str := []*Type{StringType}
	u8 := []*Type{U8Type}
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"lift args too few", func() error { _, err := LiftArgs(c, []*Type{U8Type, StringType}, []uint64{1, 2}); return err },
			"cabi: param 1: string: too few core values: 1 of 2"},
		{"lift args spilled without pointer", func() error { _, err := LiftArgs(c, u32s(17), nil); return err },
			"cabi: params: no core value for their address"},
		{"lift results spilled without pointer", func() error { _, err := LiftResults(c, str, nil); return err },
			"cabi: results: no core value for their address"},
		{"lift results flat too few", func() error { _, err := LiftResults(c, u8, nil); return err },
			"cabi: result 0: u8: too few core values: 0 of 1"},
		{"lower results count", func() error { _, err := LowerResults(c, u8, nil, nil); return err },
			"cabi: 0 results, want 1"},
		{"lower results without return pointer", func() error { _, err := LowerResults(c, str, []any{"x"}, nil); return err },
			"cabi: results: no return pointer"},
		{"lower results misaligned", func() error { _, err := LowerResults(c, str, []any{"x"}, []uint64{0, 1, 6}); return err },
			"cabi: results at 0x6 is not aligned to 4"},
		{"lower results past end", func() error { _, err := LowerResults(c, str, []any{"x"}, []uint64{60}); return err },
			"cabi: results at 0x3c of 8 bytes past memory end 64"},
		{"lower results value", func() error { _, err := LowerResults(c, u8, []any{"x"}, nil); return err },
			"cabi: result 0: u8 value is string, want uint8"},
		{"lower args count", func() error { _, err := LowerArgs(c, u8, []any{uint8(1), uint8(2)}); return err },
			"cabi: 2 arguments, want 1"},
		{"lower args spilled heap full", func() error { _, err := LowerArgs(c, u32s(17), make([]any, 17)); return err },
			"cabi: realloc of 68 bytes for params: heap of 64 bytes exhausted"},
		{"lower args spilled value", func() error {
			h := newHeap(128)
			_, err := LowerArgs(h.call(UTF8), u32s(17), make([]any, 17))
			return err
		}, "cabi: param 0: u32 value is <nil>, want uint32"},
	}
	for _, tc := range tests {
		if err := tc.err(); err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestMaxLiftBytes: lists whose elements all point at the same list lift to
// many copies of it, within a bound.
func TestMaxLiftBytes(t *testing.T) {
	t.Parallel()
	mem := make([]byte, 4096)
	// At 0, 100 lists of 1000 bytes at 1024.
	for i := range 100 {
		le.PutUint32(mem[8*i:], 1024)
		le.PutUint32(mem[8*i+4:], 1000)
	}
	typ := []*Type{ListOf(ListOf(U8Type))}
	c := memCall(mem, UTF8)
	c.Opts.MaxLiftBytes = 100*1000 + 100*16
	if _, err := LiftArgs(c, typ, []uint64{0, 100}); err != nil {
		t.Fatal(err)
	}
	c.Opts.MaxLiftBytes--
	if _, err := LiftArgs(c, typ, []uint64{0, 100}); err == nil || err.Error() != "cabi: param 0: lifting more than 101599 bytes in one call" {
		t.Fatalf("LiftArgs error %v", err)
	}
	strs := []*Type{ListOf(StringType)}
	c.Opts.MaxLiftBytes = 100*1000 + 100*16 - 1
	if _, err := LiftArgs(c, strs, []uint64{0, 100}); err == nil || err.Error() != "cabi: param 0: lifting more than 101599 bytes in one call" {
		t.Fatalf("LiftArgs error %v", err)
	}
}

// TestWrongGoTypes: every kind refuses a Go value of another type, and
// names the one it wants.
func TestWrongGoTypes(t *testing.T) {
	t.Parallel()
	r := &Resource{Name: "r"}
	want := map[*Type]string{
		BoolType: "bool", S8Type: "int8", U8Type: "uint8", S16Type: "int16", U16Type: "uint16",
		S32Type: "int32", U32Type: "uint32", S64Type: "int64", U64Type: "uint64", F32Type: "float32",
		F64Type: "float64", CharType: "rune", StringType: "string", ListOf(CharType): "[]any",
		TupleOf(U8Type): "[]any", variant(Case{"a", nil}): "cabi.Variant", enum("a"): "uint32",
		OptionOf(U8Type): "cabi.Option", ResultOf(nil, nil): "cabi.Result", flags(3): "uint32",
	}
	for typ, goType := range want {
		h := newHeap(64)
		c := h.call(UTF8)
		c.Handles = newHandles()
		msg := typ.String() + " value is struct {}, want " + goType
		if _, err := LowerFlat(c, typ, struct{}{}, nil); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("LowerFlat %s: %v, want %q", typ, err, msg)
		}
		if err := Store(c, typ, struct{}{}, 16); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Store %s: %v, want %q", typ, err, msg)
		}
	}
	// Handles take any value; the linker's hooks judge it.
	h := newHeap(64)
	c := h.call(UTF8)
	c.Handles = newHandles()
	if _, err := LowerFlat(c, &Type{Kind: KindBorrow, Resource: r}, struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
}
