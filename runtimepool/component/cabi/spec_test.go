package cabi

import (
	"math"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/tetratelabs/wazero/api"
)

// The cases of the specification's own tests (design/mvp/canonical-abi/
// run_tests.py), but those of fixed-length lists, maps and async values.

func record(fields ...Field) *Type { return &Type{Kind: KindRecord, Fields: fields} }

func variant(cases ...Case) *Type { return &Type{Kind: KindVariant, Cases: cases} }

func enum(labels ...string) *Type { return &Type{Kind: KindEnum, Labels: labels} }

func flags(n int) *Type {
	t := &Type{Kind: KindFlags}
	for i := range n {
		t.Labels = append(t.Labels, "f"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	return t
}

func f32bits(f float32) uint64 { return uint64(math.Float32bits(f)) }

// liftCase lifts core with t and expects want (or an error containing
// wantErr), then lowers want into a fresh heap and lifts it back.
type liftCase struct {
	name    string
	t       *Type
	core    []uint64
	want    any
	wantErr string
	mem     []byte
	enc     StringEncoding
}

func runLiftCase(t *testing.T, tc liftCase) {
	t.Helper()
	if err := tc.t.Check(); err != nil {
		t.Fatal(err)
	}
	c := memCall(tc.mem, tc.enc)
	vals := tc.core
	got, err := LiftFlat(c, tc.t, &vals)
	if tc.wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Fatalf("LiftFlat = %#v, %v; want error containing %q", got, err, tc.wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("LiftFlat: %v", err)
	}
	if len(vals) != 0 {
		t.Fatalf("LiftFlat left %d core values", len(vals))
	}
	if !equalValues(got, tc.want) {
		t.Fatalf("LiftFlat = %#v, want %#v", got, tc.want)
	}
	h := newHeap(5*len(tc.mem) + 64)
	lc := h.call(tc.enc)
	flat, err := LowerFlat(lc, tc.t, got, nil)
	if err != nil {
		t.Fatalf("LowerFlat: %v", err)
	}
	if len(flat) != len(Flat(tc.t)) {
		t.Fatalf("LowerFlat gave %d values, Flat says %d", len(flat), len(Flat(tc.t)))
	}
	again, err := LiftFlat(lc, tc.t, &flat)
	if err != nil {
		t.Fatalf("LiftFlat after LowerFlat: %v", err)
	}
	if !equalValues(again, tc.want) {
		t.Fatalf("LiftFlat after LowerFlat = %#v, want %#v", again, tc.want)
	}
}

func TestSpecLiftFlat(t *testing.T) {
	t.Parallel()
	xyz := record(Field{"x", U8Type}, Field{"y", U16Type}, Field{"z", U32Type})
	vxyz := variant(Case{"x", U8Type}, Case{"y", F32Type}, Case{"z", nil})
	wy := variant(Case{"w", U8Type}, Case{"y", U8Type})
	ab := enum("a", "b")
	tests := []liftCase{
		{name: "record", t: xyz, core: []uint64{1, 2, 3}, want: []any{uint8(1), uint16(2), uint32(3)}},
		{name: "nested tuple", t: TupleOf(TupleOf(U8Type, U8Type), U8Type), core: []uint64{1, 2, 3},
			want: []any{[]any{uint8(1), uint8(2)}, uint8(3)}},
		{name: "flags none", t: flags(2), core: []uint64{0}, want: uint32(0)},
		{name: "flags b", t: flags(2), core: []uint64{2}, want: uint32(2)},
		{name: "flags ab", t: flags(2), core: []uint64{3}, want: uint32(3)},
		{name: "flags past labels", t: flags(2), core: []uint64{4}, want: uint32(0)},
		{name: "flags 32", t: flags(32), core: []uint64{0xffffffff}, want: uint32(0xffffffff)},
		{name: "variant x", t: vxyz, core: []uint64{0, 42}, want: Variant{0, uint8(42)}},
		{name: "variant x wraps", t: vxyz, core: []uint64{0, 256}, want: Variant{0, uint8(0)}},
		{name: "variant y f32 in i32", t: vxyz, core: []uint64{1, 0x4048f5c3}, want: Variant{1, float32(3.140000104904175)}},
		{name: "variant z", t: vxyz, core: []uint64{2, 0xffffffff}, want: Variant{2, nil}},
		{name: "variant discriminant", t: vxyz, core: []uint64{3, 0}, wantErr: "discriminant 3 out of range"},
		{name: "option none", t: OptionOf(F32Type), core: []uint64{0, f32bits(3.14)}, want: Option{}},
		{name: "option some", t: OptionOf(F32Type), core: []uint64{1, f32bits(3.14)}, want: Option{true, float32(3.14)}},
		{name: "option discriminant", t: OptionOf(F32Type), core: []uint64{2, 0}, wantErr: "discriminant 2"},
		{name: "result ok", t: ResultOf(U8Type, U32Type), core: []uint64{0, 42}, want: Result{false, uint8(42)}},
		{name: "result error", t: ResultOf(U8Type, U32Type), core: []uint64{1, 1000}, want: Result{true, uint32(1000)}},
		{name: "variant w", t: wy, core: []uint64{0, 42}, want: Variant{0, uint8(42)}},
		{name: "variant y", t: wy, core: []uint64{1, 42}, want: Variant{1, uint8(42)}},
		{name: "enum a", t: ab, core: []uint64{0}, want: uint32(0)},
		{name: "enum b", t: ab, core: []uint64{1}, want: uint32(1)},
		{name: "enum discriminant", t: ab, core: []uint64{2}, wantErr: "discriminant 2"},
		{name: "too few values", t: xyz, core: []uint64{1, 2}, wantErr: "too few core values"},
	}
	pairs := []struct {
		t     *Type
		pairs [][2]any // core value, lifted value (nil: an error)
	}{
		{BoolType, [][2]any{{0, false}, {1, true}, {2, true}, {4294967295, true}}},
		{U8Type, [][2]any{{127, uint8(127)}, {128, uint8(128)}, {255, uint8(255)}, {256, uint8(0)},
			{4294967295, uint8(255)}, {4294967168, uint8(128)}, {4294967167, uint8(127)}}},
		{S8Type, [][2]any{{127, int8(127)}, {128, int8(-128)}, {255, int8(-1)}, {256, int8(0)},
			{4294967295, int8(-1)}, {4294967168, int8(-128)}, {4294967167, int8(127)}}},
		{U16Type, [][2]any{{32767, uint16(32767)}, {32768, uint16(32768)}, {65535, uint16(65535)}, {65536, uint16(0)},
			{1<<32 - 1, uint16(65535)}, {1<<32 - 32768, uint16(32768)}, {1<<32 - 32769, uint16(32767)}}},
		{S16Type, [][2]any{{32767, int16(32767)}, {32768, int16(-32768)}, {65535, int16(-1)}, {65536, int16(0)},
			{1<<32 - 1, int16(-1)}, {1<<32 - 32768, int16(-32768)}, {1<<32 - 32769, int16(32767)}}},
		{U32Type, [][2]any{{1<<31 - 1, uint32(1<<31 - 1)}, {1 << 31, uint32(1 << 31)}, {1<<32 - 1, uint32(1<<32 - 1)}}},
		{S32Type, [][2]any{{1<<31 - 1, int32(1<<31 - 1)}, {1 << 31, int32(-1 << 31)}, {1<<32 - 1, int32(-1)}}},
		{U64Type, [][2]any{{uint64(1<<63 - 1), uint64(1<<63 - 1)}, {uint64(1 << 63), uint64(1 << 63)}, {uint64(1<<64 - 1), uint64(1<<64 - 1)}}},
		{S64Type, [][2]any{{uint64(1<<63 - 1), int64(1<<63 - 1)}, {uint64(1 << 63), int64(-1 << 63)}, {uint64(1<<64 - 1), int64(-1)}}},
		{F32Type, [][2]any{{f32bits(3.14), float32(3.14)}}},
		{F64Type, [][2]any{{math.Float64bits(3.14), 3.14}}},
		{CharType, [][2]any{{0, rune(0)}, {65, 'A'}, {0xd7ff, rune(0xd7ff)}, {0xd800, nil}, {0xdfff, nil},
			{0xe000, rune(0xe000)}, {0x10ffff, rune(0x10ffff)}, {0x110000, nil}, {0xffffffff, nil}}},
	}
	for _, p := range pairs {
		for _, pair := range p.pairs {
			var core uint64
			switch x := pair[0].(type) {
			case int:
				core = uint64(x)
			case uint64:
				core = x
			}
			tc := liftCase{name: p.t.String() + "/" + uintName(core), t: p.t, core: []uint64{core}, want: pair[1]}
			if pair[1] == nil {
				tc.wantErr = "not a Unicode scalar value"
			}
			tests = append(tests, tc)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runLiftCase(t, tc)
		})
	}
}

func uintName(x uint64) string {
	const digits = "0123456789abcdef"
	if x == 0 {
		return "0x0"
	}
	var b []byte
	for ; x > 0; x >>= 4 {
		b = append([]byte{digits[x&15]}, b...)
	}
	return "0x" + string(b)
}

func TestSpecNaN(t *testing.T) {
	t.Parallel()
	tests32 := []struct{ in, out uint32 }{
		{0x7fc00000, canonicalNaN32}, {0x7fc00001, canonicalNaN32}, {0x7fe00000, canonicalNaN32},
		{0x7fffffff, canonicalNaN32}, {0xffffffff, canonicalNaN32}, {0x7f800000, 0x7f800000}, {0x3fc00000, 0x3fc00000},
	}
	for _, tc := range tests32 {
		t.Run("f32/"+uintName(uint64(tc.in)), func(t *testing.T) {
			t.Parallel()
			vals := []uint64{uint64(tc.in)}
			v, err := LiftFlat(memCall(nil, UTF8), F32Type, &vals)
			if err != nil || math.Float32bits(v.(float32)) != tc.out {
				t.Fatalf("LiftFlat = %v, %v; want bits %#x", v, err, tc.out)
			}
			mem := le.AppendUint32(nil, tc.in)
			v, err = Load(memCall(mem, UTF8), F32Type, 0)
			if err != nil || math.Float32bits(v.(float32)) != tc.out {
				t.Fatalf("Load = %v, %v; want bits %#x", v, err, tc.out)
			}
			flat, err := LowerFlat(memCall(nil, UTF8), F32Type, math.Float32frombits(tc.in), nil)
			if err != nil || flat[0] != uint64(tc.out) {
				t.Fatalf("LowerFlat = %#x, %v; want %#x", flat, err, tc.out)
			}
		})
	}
	tests64 := []struct{ in, out uint64 }{
		{0x7ff8000000000000, canonicalNaN64}, {0x7ff8000000000001, canonicalNaN64}, {0x7ffc000000000000, canonicalNaN64},
		{0x7fffffffffffffff, canonicalNaN64}, {0xffffffffffffffff, canonicalNaN64},
		{0x7ff0000000000000, 0x7ff0000000000000}, {0x3ff0000000000000, 0x3ff0000000000000},
	}
	for _, tc := range tests64 {
		t.Run("f64/"+uintName(tc.in), func(t *testing.T) {
			t.Parallel()
			vals := []uint64{tc.in}
			v, err := LiftFlat(memCall(nil, UTF8), F64Type, &vals)
			if err != nil || math.Float64bits(v.(float64)) != tc.out {
				t.Fatalf("LiftFlat = %v, %v; want bits %#x", v, err, tc.out)
			}
			mem := le.AppendUint64(nil, tc.in)
			v, err = Load(memCall(mem, UTF8), F64Type, 0)
			if err != nil || math.Float64bits(v.(float64)) != tc.out {
				t.Fatalf("Load = %v, %v; want bits %#x", v, err, tc.out)
			}
			flat, err := LowerFlat(memCall(nil, UTF8), F64Type, math.Float64frombits(tc.in), nil)
			if err != nil || flat[0] != tc.out {
				t.Fatalf("LowerFlat = %#x, %v; want %#x", flat, err, tc.out)
			}
		})
	}
}

var encodings = []StringEncoding{UTF8, UTF16, Latin1UTF16}

var funStrings = []string{"", "a", "hi", "\x00", "a\x00b", "\u0080", "\u0080b", "ab\u00efc",
	"\u01ffy", "xy\u01ff", "a\ud7ffb", "a\u02ff\u03ff\u04ffbc",
	"\uf123", "\uf123\uf123abc", "abcdef\uf123", "\U0001F600", "a\U0001F600\u00ff"}

// encodeString encodes s as a guest using enc would: its bytes and tagged
// length. For latin1+utf16, Latin-1 when every code point fits, unless
// forceUTF16.
func encodeString(s string, enc StringEncoding, forceUTF16 bool) ([]byte, uint32) {
	switch enc {
	case UTF8:
		return []byte(s), uint32(len(s))
	case UTF16:
		u := utf16.Encode([]rune(s))
		var b []byte
		for _, x := range u {
			b = le.AppendUint16(b, x)
		}
		return b, uint32(len(u))
	default:
		latin1 := !forceUTF16
		for _, r := range s {
			if r >= 0x100 {
				latin1 = false
			}
		}
		if !latin1 {
			b, n := encodeString(s, UTF16, false)
			return b, n | utf16Tag
		}
		var b []byte
		for _, r := range s {
			b = append(b, byte(r))
		}
		return b, uint32(len(b))
	}
}

// TestSpecStrings lifts every string of the specification's tests from
// every encoding and lowers it to every encoding, checking the bytes the
// guest gets.
func TestSpecStrings(t *testing.T) {
	t.Parallel()
	for _, src := range encodings {
		for _, dst := range encodings {
			for _, s := range funStrings {
				for _, force := range []bool{false, true} {
					if force && src != Latin1UTF16 {
						continue
					}
					name := src.String() + "/" + dst.String() + "/" + uintName(uint64(len(s)))
					if force {
						name += "/utf16"
					}
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						testString(t, src, dst, s, force)
					})
				}
			}
		}
	}
}

func testString(t *testing.T, src, dst StringEncoding, s string, force bool) {
	enc, tagged := encodeString(s, src, force)
	vals := []uint64{0, uint64(tagged)}
	got, err := LiftFlat(memCall(enc, src), StringType, &vals)
	if err != nil || got != s {
		t.Fatalf("LiftFlat = %q, %v; want %q", got, err, s)
	}
	h := newHeap(8*len(enc) + 16)
	c := h.call(dst)
	flat, err := LowerFlat(c, StringType, s, nil)
	if err != nil {
		t.Fatalf("LowerFlat: %v (realloc calls %+v)", err, h.calls)
	}
	want, wantTagged := encodeString(s, dst, false)
	ptr, n := uint32(flat[0]), uint32(flat[1])
	if n != wantTagged {
		t.Fatalf("lowered length %#x, want %#x", n, wantTagged)
	}
	if gotBytes := h.mem.b[ptr : ptr+uint32(len(want))]; string(gotBytes) != string(want) {
		t.Fatalf("lowered bytes %x, want %x", gotBytes, want)
	}
	again, err := LiftFlat(c, StringType, &flat)
	if err != nil || again != s {
		t.Fatalf("LiftFlat after LowerFlat = %q, %v; want %q", again, err, s)
	}
}

// TestSpecHeap loads lists from memory laid out by hand.
func TestSpecHeap(t *testing.T) {
	t.Parallel()
	tup := func(v ...any) []any { return v }
	tests := []struct {
		name    string
		t       *Type
		want    any
		core    []uint64
		mem     []byte
		wantErr string
	}{
		{"bools", ListOf(BoolType), tup(true, false, true), []uint64{0, 3}, []byte{1, 0, 1}, ""},
		{"bool 2", ListOf(BoolType), tup(true, false, true), []uint64{0, 3}, []byte{1, 0, 2}, ""},
		{"bools at 3", ListOf(BoolType), tup(true, false, true), []uint64{3, 3}, []byte{0xff, 0xff, 0xff, 1, 0, 1}, ""},
		{"u8", ListOf(U8Type), []byte{1, 2, 3}, []uint64{0, 3}, []byte{1, 2, 3}, ""},
		{"u16", ListOf(U16Type), tup(uint16(1), uint16(2), uint16(3)), []uint64{0, 3}, []byte{1, 0, 2, 0, 3, 0}, ""},
		{"u16 misaligned", ListOf(U16Type), nil, []uint64{1, 3}, []byte{0, 1, 0, 2, 0, 3, 0}, "not aligned to 2"},
		{"u32", ListOf(U32Type), tup(uint32(1), uint32(2), uint32(3)), []uint64{0, 3},
			[]byte{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}, ""},
		{"u64", ListOf(U64Type), tup(uint64(1), uint64(2)), []uint64{0, 2},
			[]byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}, ""},
		{"s8", ListOf(S8Type), tup(int8(-1), int8(-2), int8(-3)), []uint64{0, 3}, []byte{0xff, 0xfe, 0xfd}, ""},
		{"s16", ListOf(S16Type), tup(int16(-1), int16(-2), int16(-3)), []uint64{0, 3},
			[]byte{0xff, 0xff, 0xfe, 0xff, 0xfd, 0xff}, ""},
		{"s32", ListOf(S32Type), tup(int32(-1), int32(-2), int32(-3)), []uint64{0, 3},
			[]byte{0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfd, 0xff, 0xff, 0xff}, ""},
		{"s64", ListOf(S64Type), tup(int64(-1), int64(-2)), []uint64{0, 2},
			[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ""},
		{"chars", ListOf(CharType), tup('A', 'B', 'c'), []uint64{0, 3},
			[]byte{65, 0, 0, 0, 66, 0, 0, 0, 99, 0, 0, 0}, ""},
		{"strings", ListOf(StringType), tup("hi", "wat"), []uint64{0, 2},
			[]byte{16, 0, 0, 0, 2, 0, 0, 0, 21, 0, 0, 0, 3, 0, 0, 0, 'h', 'i', 0xf, 0xf, 0xf, 'w', 'a', 't'}, ""},
		{"lists of u8", ListOf(ListOf(U8Type)), tup([]byte{3, 4, 5}, []byte{}, []byte{6, 7}), []uint64{0, 3},
			[]byte{24, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 27, 0, 0, 0, 2, 0, 0, 0, 3, 4, 5, 6, 7}, ""},
		{"lists of u16", ListOf(ListOf(U16Type)), tup(tup(uint16(5), uint16(6))), []uint64{0, 1},
			[]byte{8, 0, 0, 0, 2, 0, 0, 0, 5, 0, 6, 0}, ""},
		{"lists of u16 misaligned", ListOf(ListOf(U16Type)), nil, []uint64{0, 1},
			[]byte{9, 0, 0, 0, 2, 0, 0, 0, 0, 5, 0, 6, 0}, "not aligned to 2"},
		{"tuples", ListOf(TupleOf(U8Type, U8Type, U16Type, U32Type)),
			tup(tup(uint8(6), uint8(7), uint16(8), uint32(9)), tup(uint8(4), uint8(5), uint16(6), uint32(7))), []uint64{0, 2},
			[]byte{6, 7, 8, 0, 9, 0, 0, 0, 4, 5, 6, 0, 7, 0, 0, 0}, ""},
		{"tuples padded", ListOf(TupleOf(U8Type, U16Type, U8Type, U32Type)),
			tup(tup(uint8(6), uint16(7), uint8(8), uint32(9)), tup(uint8(4), uint16(5), uint8(6), uint32(7))), []uint64{0, 2},
			[]byte{6, 0xff, 7, 0, 8, 0xff, 0xff, 0xff, 9, 0, 0, 0, 4, 0xff, 5, 0, 6, 0xff, 0xff, 0xff, 7, 0, 0, 0}, ""},
		{"tuples tail padded", ListOf(TupleOf(U16Type, U8Type)), tup(tup(uint16(6), uint8(7)), tup(uint16(8), uint8(9))), []uint64{0, 2},
			[]byte{6, 0, 7, 0xff, 8, 0, 9, 0xff}, ""},
		{"nested tuples", ListOf(TupleOf(TupleOf(U16Type, U8Type), U8Type)),
			tup(tup(tup(uint16(4), uint8(5)), uint8(6)), tup(tup(uint16(7), uint8(8)), uint8(9))), []uint64{0, 2},
			[]byte{4, 0, 5, 0xff, 6, 0xff, 7, 0, 8, 0xff, 9, 0xff}, ""},
		{"flags 2", ListOf(flags(2)), tup(uint32(0), uint32(2), uint32(3)), []uint64{0, 3}, []byte{0, 2, 3}, ""},
		{"flags 2 masked", ListOf(flags(2)), tup(uint32(0), uint32(2), uint32(0)), []uint64{0, 3}, []byte{0, 2, 4}, ""},
		{"flags 9", ListOf(flags(9)), tup(uint32(0x1ff), uint32(0)), []uint64{0, 2}, []byte{0xff, 0x1, 0, 0}, ""},
		{"flags 9 masked", ListOf(flags(9)), tup(uint32(0x1ff), uint32(0)), []uint64{0, 2}, []byte{0xff, 0x3, 0, 0}, ""},
		{"flags 17", ListOf(flags(17)), tup(uint32(0x1ffff), uint32(0)), []uint64{0, 2}, []byte{0xff, 0xff, 0x1, 0, 0, 0, 0, 0}, ""},
		{"flags 17 masked", ListOf(flags(17)), tup(uint32(0x1ffff), uint32(0)), []uint64{0, 2}, []byte{0xff, 0xff, 0x3, 0, 0, 0, 0, 0}, ""},
		{"flags 32", ListOf(flags(32)), tup(uint32(0xffffffff), uint32(0)), []uint64{0, 2}, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, ""},
		{"past memory end", ListOf(U32Type), nil, []uint64{4, 2}, make([]byte, 11), "past memory end 11"},
		{"past memory end u8", ListOf(U8Type), nil, []uint64{4, 8}, make([]byte, 11), "past memory end 11"},
		{"string past memory end", ListOf(StringType), nil, []uint64{0, 1}, []byte{8, 0, 0, 0, 99, 0, 0, 0}, "past memory end 8"},
		{"bad char", ListOf(CharType), nil, []uint64{0, 1}, []byte{0, 0xd8, 0, 0}, "not a Unicode scalar value"},
		{"too long", ListOf(U64Type), nil, []uint64{0, 1 << 25}, make([]byte, 8), "more than 268435455"},
		{"length wraps", ListOf(U64Type), nil, []uint64{8, 1 << 29}, make([]byte, 16), "more than 268435455"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := tc.want
			runLiftCase(t, liftCase{t: tc.t, core: tc.core, want: want, wantErr: tc.wantErr, mem: tc.mem})
		})
	}
}

func TestSpecFlatten(t *testing.T) {
	t.Parallel()
	i32, i64, f32, f64 := api.ValueTypeI32, api.ValueTypeI64, api.ValueTypeF32, api.ValueTypeF64
	var u8s []*Type
	var i32s []api.ValueType
	for range 17 {
		u8s = append(u8s, U8Type)
		i32s = append(i32s, i32)
	}
	tests := []struct {
		name            string
		params, results []*Type
		flatP, flatR    []api.ValueType // before spilling
	}{
		{"no results", []*Type{U8Type, F32Type, F64Type}, nil, []api.ValueType{i32, f32, f64}, nil},
		{"f32", []*Type{U8Type, F32Type, F64Type}, []*Type{F32Type}, []api.ValueType{i32, f32, f64}, []api.ValueType{f32}},
		{"u8", []*Type{U8Type, F32Type, F64Type}, []*Type{U8Type}, []api.ValueType{i32, f32, f64}, []api.ValueType{i32}},
		{"tuple f32", []*Type{U8Type, F32Type, F64Type}, []*Type{TupleOf(F32Type)}, []api.ValueType{i32, f32, f64}, []api.ValueType{f32}},
		{"tuple f32 f32", []*Type{U8Type, F32Type, F64Type}, []*Type{TupleOf(F32Type, F32Type)}, []api.ValueType{i32, f32, f64}, []api.ValueType{f32, f32}},
		{"f32 f32", []*Type{U8Type, F32Type, F64Type}, []*Type{F32Type, F32Type}, []api.ValueType{i32, f32, f64}, []api.ValueType{f32, f32}},
		{"17 params", u8s, nil, i32s, nil},
		{"17 params spilled results", u8s, []*Type{TupleOf(U8Type, U8Type)}, i32s, []api.ValueType{i32, i32}},
		{"16 params", u8s[:16], []*Type{StringType}, i32s[:16], []api.ValueType{i32, i32}},
		{"variant join", []*Type{variant(Case{"a", F32Type}, Case{"b", U32Type}, Case{"c", F64Type}, Case{"d", TupleOf(U8Type, F32Type)})}, nil,
			[]api.ValueType{i32, i64, f32}, nil},
		{"result join", []*Type{ResultOf(U64Type, TupleOf(F32Type, F64Type, StringType))}, nil,
			[]api.ValueType{i32, i64, f64, i32, i32}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var gotP []api.ValueType
			for _, p := range tc.params {
				gotP = append(gotP, Flat(p)...)
			}
			if !sameTypes(gotP, tc.flatP) {
				t.Fatalf("Flat(params) = %v, want %v", gotP, tc.flatP)
			}
			for _, dir := range []Direction{Lift, Lower} {
				wantP, wantR := tc.flatP, tc.flatR
				spillP, spillR := len(wantP) > MaxFlatParams, len(wantR) > MaxFlatResults
				if spillP {
					wantP = []api.ValueType{i32}
				}
				if spillR {
					if dir == Lift {
						wantR = []api.ValueType{i32}
					} else {
						wantP = append(append([]api.ValueType(nil), wantP...), i32)
						wantR = nil
					}
				}
				sig := FlatFunc(tc.params, tc.results, dir)
				if !sameTypes(sig.Params, wantP) || !sameTypes(sig.Results, wantR) ||
					sig.ParamsSpilled != spillP || sig.ResultsSpilled != spillR {
					t.Fatalf("FlatFunc(%d) = %+v, want params %v results %v spilled %v %v", dir, sig, wantP, wantR, spillP, spillR)
				}
			}
		})
	}
}

func sameTypes(a, b []api.ValueType) bool {
	return string(a) == string(b)
}

func TestSizeAlign(t *testing.T) {
	t.Parallel()
	big := &Type{Kind: KindEnum}
	for range 257 {
		big.Labels = append(big.Labels, "x")
	}
	huge := &Type{Kind: KindEnum, Labels: make([]string, 1<<16+1)}
	tests := []struct {
		name        string
		t           *Type
		size, align uint32
	}{
		{"bool", BoolType, 1, 1}, {"s8", S8Type, 1, 1}, {"u16", U16Type, 2, 2}, {"s32", S32Type, 4, 4},
		{"u64", U64Type, 8, 8}, {"f32", F32Type, 4, 4}, {"f64", F64Type, 8, 8}, {"char", CharType, 4, 4},
		{"string", StringType, 8, 4}, {"list", ListOf(U64Type), 8, 4},
		{"own", &Type{Kind: KindOwn, Resource: &Resource{}}, 4, 4},
		{"record", record(Field{"a", U8Type}, Field{"b", U32Type}, Field{"c", U8Type}), 12, 4},
		{"tuple u64 u8", TupleOf(U64Type, U8Type), 16, 8},
		{"enum 2", enum("a", "b"), 1, 1}, {"enum 257", big, 2, 2}, {"enum 65537", huge, 4, 4},
		{"option u8", OptionOf(U8Type), 2, 1}, {"option u64", OptionOf(U64Type), 16, 8},
		{"option string", OptionOf(StringType), 12, 4},
		{"result", ResultOf(nil, nil), 1, 1}, {"result string", ResultOf(StringType, U8Type), 12, 4},
		{"variant f64", variant(Case{"a", nil}, Case{"b", F64Type}, Case{"c", U8Type}), 16, 8},
		{"flags 8", flags(8), 1, 1}, {"flags 9", flags(9), 2, 2}, {"flags 16", flags(16), 2, 2},
		{"flags 17", flags(17), 4, 4}, {"flags 32", flags(32), 4, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.t.Check(); err != nil {
				t.Fatal(err)
			}
			if s, a := Size(tc.t), Align(tc.t); s != tc.size || a != tc.align {
				t.Fatalf("Size, Align = %d, %d; want %d, %d", s, a, tc.size, tc.align)
			}
		})
	}
}

// TestLayoutCache: layouts computed concurrently on first use agree, and a
// flat count too large to keep is computed again.
func TestLayoutCache(t *testing.T) {
	t.Parallel()
	rep := func(e *Type, n int) *Type {
		ts := make([]*Type, n)
		for i := range ts {
			ts[i] = e
		}
		return TupleOf(ts...)
	}
	huge := rep(rep(rep(U8Type, 256), 256), 256) // 2^24 flat values
	nested := OptionOf(variant(Case{"a", TupleOf(U8Type, F64Type)}, Case{"b", StringType}))
	type result struct {
		size, align uint32
		flat        int
		sig         string
	}
	results := make(chan result, 8)
	for range 8 {
		go func() {
			results <- result{Size(huge), Align(nested), flatLen(huge), FlatFunc([]*Type{huge}, []*Type{nested}, Lower).String()}
		}()
	}
	for range 8 {
		r := <-results
		if r.size != 1<<24 || r.align != 8 || r.flat != 1<<24 || r.sig != "(i32, i32) -> ()" {
			t.Fatalf("got %+v", r)
		}
	}
	if Size(nested) != 32 || payloadOffset(nested) != 8 || flatLen(nested) != 4 {
		t.Fatalf("option<variant>: size %d, payload at %d, %d flat values", Size(nested), payloadOffset(nested), flatLen(nested))
	}
}
