package cabi

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"
)

// byteSource hands out the bytes of a fuzz input, then zeros.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) next() int {
	if s.i >= len(s.b) {
		return 0
	}
	s.i++
	return int(s.b[s.i-1])
}

var (
	resA = &Resource{Name: "a"}
	resB = &Resource{Name: "b"}
)

var primitives = []*Type{BoolType, S8Type, U8Type, S16Type, U16Type, S32Type, U32Type, S64Type, U64Type,
	F32Type, F64Type, CharType, StringType}

// genType builds a valid type from the source's bytes.
func genType(s *byteSource, depth int) *Type {
	k := Kind(s.next()%int(KindBorrow) + 1)
	if depth >= 4 && k >= KindList {
		return primitives[s.next()%len(primitives)]
	}
	switch k {
	case KindList:
		return ListOf(genType(s, depth+1))
	case KindOption:
		return OptionOf(genType(s, depth+1))
	case KindRecord, KindTuple:
		n := 1 + s.next()%4
		t := &Type{Kind: k}
		for i := range n {
			f := genType(s, depth+1)
			if k == KindRecord {
				t.Fields = append(t.Fields, Field{fmt.Sprint("f", i), f})
			} else {
				t.Elems = append(t.Elems, f)
			}
		}
		return t
	case KindVariant:
		n := 1 + s.next()%5
		if s.next()%16 == 0 {
			n = 300 // a two-byte discriminant
		}
		t := &Type{Kind: KindVariant}
		for i := range n {
			var p *Type
			if i < 6 && s.next()%3 != 0 {
				p = genType(s, depth+1)
			}
			t.Cases = append(t.Cases, Case{fmt.Sprint("c", i), p})
		}
		return t
	case KindEnum:
		n := 1 + s.next()%5
		if s.next()%16 == 0 {
			n = 70000 // a four-byte discriminant
		}
		return &Type{Kind: KindEnum, Labels: make([]string, n)}
	case KindResult:
		var ok, err *Type
		if s.next()%2 == 0 {
			ok = genType(s, depth+1)
		}
		if s.next()%2 == 0 {
			err = genType(s, depth+1)
		}
		return ResultOf(ok, err)
	case KindFlags:
		return &Type{Kind: KindFlags, Labels: make([]string, 1+s.next()%32)}
	case KindOwn, KindBorrow:
		r := resA
		if s.next()%2 == 0 {
			r = resB
		}
		return &Type{Kind: k, Resource: r}
	}
	return primitives[k-1]
}

// genString returns a random string of code points from every range the
// encodings treat differently.
func genString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(12) {
		switch r.IntN(5) {
		case 0:
			b.WriteRune(rune(r.IntN(0x80)))
		case 1:
			b.WriteRune(rune(0x80 + r.IntN(0x80)))
		case 2:
			b.WriteRune(rune(0x100 + r.IntN(0xd800-0x100)))
		case 3:
			b.WriteRune(rune(0xe000 + r.IntN(0x10000-0xe000)))
		default:
			b.WriteRune(rune(0x10000 + r.IntN(0x100000)))
		}
	}
	return b.String()
}

// genValue returns a random value of type t.
func genValue(r *rand.Rand, t *Type) any {
	switch t.Kind {
	case KindBool:
		return r.IntN(2) == 1
	case KindS8:
		return int8(r.Uint32())
	case KindU8:
		return uint8(r.Uint32())
	case KindS16:
		return int16(r.Uint32())
	case KindU16:
		return uint16(r.Uint32())
	case KindS32:
		return int32(r.Uint32())
	case KindU32:
		return r.Uint32()
	case KindS64:
		return int64(r.Uint64())
	case KindU64:
		return r.Uint64()
	case KindF32:
		return math.Float32frombits(r.Uint32())
	case KindF64:
		return math.Float64frombits(r.Uint64())
	case KindChar:
		for {
			c := rune(r.IntN(0x110000))
			if c < 0xd800 || c > 0xdfff {
				return c
			}
		}
	case KindString:
		return genString(r)
	case KindList:
		n := r.IntN(4)
		if t.Elem.Kind == KindU8 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return b
		}
		vals := make([]any, n)
		for i := range vals {
			vals[i] = genValue(r, t.Elem)
		}
		return vals
	case KindRecord, KindTuple:
		vals := make([]any, fieldCount(t))
		for i := range vals {
			vals[i] = genValue(r, fieldType(t, i))
		}
		return vals
	case KindVariant, KindEnum, KindOption, KindResult:
		d := uint32(r.IntN(int(numCases(t))))
		var v any
		if ct := caseType(t, d); ct != nil {
			v = genValue(r, ct)
		}
		return makeCase(t, d, v)
	case KindFlags:
		return r.Uint32() & flagsMask(t)
	case KindOwn, KindBorrow:
		return fmt.Sprint("resource ", r.Uint32())
	}
	panic("unknown kind")
}

// canonical is v with its NaNs made canonical, as lifting returns them.
func canonical(v any) any {
	switch x := v.(type) {
	case float32:
		return liftF32(math.Float32bits(x))
	case float64:
		return liftF64(math.Float64bits(x))
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = canonical(x[i])
		}
		return out
	case Variant:
		return Variant{x.Case, canonical(x.Value)}
	case Option:
		return Option{x.Some, canonical(x.Value)}
	case Result:
		return Result{x.Err, canonical(x.Value)}
	}
	return v
}

// roundTrip checks that a value of t survives Store and Load, LowerFlat and
// LiftFlat, and LowerArgs and LiftArgs in every encoding, its NaNs made
// canonical.
func roundTrip(t *testing.T, typ *Type, v any) {
	t.Helper()
	if err := typ.Check(); err != nil {
		t.Fatal(err)
	}
	want := canonical(v)
	for _, enc := range encodings {
		h := newHeap(1 << 20)
		c := h.call(enc)
		c.Handles = newHandles()
		ptr, err := h.realloc(context.Background(), 0, 0, Align(typ), Size(typ))
		if err != nil {
			t.Fatal(err)
		}
		if err := Store(c, typ, v, ptr); err != nil {
			t.Fatalf("%s: Store %s: %v", enc, typ, err)
		}
		got, err := Load(c, typ, ptr)
		if err != nil || !sameBits(got, want) {
			t.Fatalf("%s: Load %s = %#v, %v; want %#v", enc, typ, got, err, want)
		}
		flat, err := LowerFlat(c, typ, v, nil)
		if err != nil {
			t.Fatalf("%s: LowerFlat %s: %v", enc, typ, err)
		}
		ft := Flat(typ)
		if len(flat) != len(ft) {
			t.Fatalf("%s: LowerFlat %s gave %d values, Flat %d", enc, typ, len(flat), len(ft))
		}
		for i, x := range flat {
			if (ft[i] == api.ValueTypeI32 || ft[i] == api.ValueTypeF32) && x>>32 != 0 {
				t.Fatalf("%s: LowerFlat %s value %d is %#x, more than 32 bits", enc, typ, i, x)
			}
		}
		got, err = LiftFlat(c, typ, &flat)
		if err != nil || !sameBits(got, want) || len(flat) != 0 {
			t.Fatalf("%s: LiftFlat %s = %#v, %v; want %#v", enc, typ, got, err, want)
		}
		// As many parameters as it takes to spill them.
		n := 1 + MaxFlatParams/len(ft)
		params, vals := make([]*Type, n), make([]any, n)
		for i := range params {
			params[i], vals[i] = typ, v
		}
		core, err := LowerArgs(c, params, vals)
		if err != nil {
			t.Fatalf("%s: LowerArgs %d × %s: %v", enc, n, typ, err)
		}
		args, err := LiftArgs(c, params, core)
		if err != nil || !sameBits(args[n-1], want) {
			t.Fatalf("%s: LiftArgs %d × %s = %#v, %v; want %#v", enc, n, typ, args[n-1], err, want)
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{byte(KindString - 1)}, uint64(1))
	f.Add([]byte{byte(KindList - 1), byte(KindRecord - 1), 3, byte(KindF32 - 1), byte(KindString - 1), byte(KindChar - 1)}, uint64(2))
	f.Add([]byte{byte(KindVariant - 1), 4, 0, 1, byte(KindF64 - 1), 1, byte(KindU8 - 1), 1, byte(KindF32 - 1)}, uint64(3))
	f.Add([]byte{byte(KindResult - 1), 0, byte(KindOwn - 1), 0, 1, byte(KindBorrow - 1)}, uint64(4))
	f.Fuzz(func(t *testing.T, typeBytes []byte, seed uint64) {
		typ := genType(&byteSource{b: typeBytes}, 0)
		r := rand.New(rand.NewPCG(seed, seed>>1))
		roundTrip(t, typ, genValue(r, typ))
	})
}

// TestRoundTripRandom runs the round trip on a fixed set of random types
// and values, so that plain go test covers more than the fuzz seeds.
func TestRoundTripRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		b := make([]byte, 32)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		typ := genType(&byteSource{b: b}, 0)
		v := genValue(r, typ)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			roundTrip(t, typ, v)
		})
	}
}

// anyHandles lifts any handle as its number and lowers numbers.
type anyHandles struct{}

func (anyHandles) LowerOwn(_ *Resource, v any) (uint32, error)    { return v.(uint32), nil }
func (anyHandles) LowerBorrow(_ *Resource, v any) (uint32, error) { return v.(uint32), nil }
func (anyHandles) LiftOwn(_ *Resource, h uint32) (any, error)     { return h, nil }
func (anyHandles) LiftBorrow(_ *Resource, h uint32) (any, error)  { return h, nil }

// FuzzLoad loads and lifts values of random types from random memory: it
// must never panic, and what it lifts must lower and lift back the same.
func FuzzLoad(f *testing.F) {
	f.Add([]byte{byte(KindString - 1)}, []byte{8, 0, 0, 0, 2, 0, 0, 0, 'h', 'i'}, uint32(0), uint8(0), uint64(0), uint64(0))
	f.Add([]byte{byte(KindList - 1), byte(KindList - 1), byte(KindU16 - 1)}, []byte{8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 7, 0},
		uint32(0), uint8(1), uint64(8), uint64(1))
	f.Add([]byte{byte(KindVariant - 1), 2, 1, byte(KindString - 1), 1, byte(KindChar - 1)}, make([]byte, 32), uint32(4), uint8(2), uint64(1), uint64(0xd800))
	f.Fuzz(func(t *testing.T, typeBytes, mem []byte, ptr uint32, enc uint8, core0, core1 uint64) {
		if len(mem) > 256 {
			mem = mem[:256]
		}
		typ := genType(&byteSource{b: typeBytes}, 0)
		c := memCall(mem, StringEncoding(enc%3))
		c.Handles = anyHandles{}
		v, err := Load(c, typ, ptr)
		if err == nil {
			checkRelift(t, typ, v, c.Opts.Encoding)
		}
		core := []uint64{core0, core1}
		for len(core) < flatLen(typ) {
			core = append(core, core0^uint64(len(core)), core1)
		}
		v, err = LiftFlat(c, typ, &core)
		if err == nil {
			checkRelift(t, typ, v, c.Opts.Encoding)
		}
	})
}

func checkRelift(t *testing.T, typ *Type, v any, enc StringEncoding) {
	t.Helper()
	h := newHeap(1 << 16)
	c := h.call(enc)
	c.Handles = anyHandles{}
	flat, err := LowerFlat(c, typ, v, nil)
	if err != nil {
		t.Fatalf("LowerFlat of a lifted %s: %v", typ, err)
	}
	got, err := LiftFlat(c, typ, &flat)
	if err != nil || !sameBits(got, v) {
		t.Fatalf("relifted %s = %#v, %v; want %#v", typ, got, err, v)
	}
}
