package cabi_test

import (
	"context"
	_ "embed"
	"math"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

//go:embed testdata/guest.wasm
var guestWasm []byte

var (
	greetParams  = []*cabi.Type{cabi.StringType, cabi.U32Type}
	greetResults = []*cabi.Type{cabi.StringType}
)

// guest is an instance of testdata/guest.wat in a wazero runtime of its
// own, whose "host" module implements greet with LiftArgs and LowerResults.
type guest struct {
	mod api.Module
}

func newGuest(t *testing.T) *guest {
	t.Helper()
	return newGuestConfig(t, wazero.NewRuntimeConfig())
}

func newGuestConfig(t *testing.T, cfg wazero.RuntimeConfig) *guest {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	t.Cleanup(func() { rt.Close(ctx) })
	sig := cabi.FlatFunc(greetParams, greetResults, cabi.Lower)
	_, err := rt.NewHostModuleBuilder("host").NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(greet), sig.Params, sig.Results).
		Export("greet").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.Instantiate(ctx, guestWasm)
	if err != nil {
		t.Fatal(err)
	}
	return &guest{mod: mod}
}

// call returns the Call of an export or import of module m in encoding enc.
func call(ctx context.Context, m api.Module, enc cabi.StringEncoding) *cabi.Call {
	realloc := m.ExportedFunction("cabi_realloc")
	return &cabi.Call{Ctx: ctx, Opts: &cabi.Options{
		Encoding: enc,
		Memory:   m.Memory(),
		Realloc: func(ctx context.Context, old, oldSize, align, newSize uint32) (uint32, error) {
			res, err := realloc.Call(ctx, uint64(old), uint64(oldSize), uint64(align), uint64(newSize))
			if err != nil {
				return 0, err
			}
			return api.DecodeU32(res[0]), nil
		},
	}}
}

// greet is the host's greet(name: string, n: u32) -> string: name and "!"
// n times.
func greet(ctx context.Context, m api.Module, stack []uint64) {
	c := call(ctx, m, cabi.UTF8)
	args, err := cabi.LiftArgs(c, greetParams, stack)
	if err != nil {
		panic(err)
	}
	s := strings.Repeat(args[0].(string)+"!", int(args[1].(uint32)))
	if _, err := cabi.LowerResults(c, greetResults, []any{s}, stack); err != nil {
		panic(err)
	}
}

// invoke calls export name (canon lift) with params and returns its
// results.
func (g *guest) invoke(t *testing.T, enc cabi.StringEncoding, name string, params, results []*cabi.Type, args ...any) []any {
	t.Helper()
	ctx := context.Background()
	c := call(ctx, g.mod, enc)
	sig := cabi.FlatFunc(params, results, cabi.Lift)
	fn := g.mod.ExportedFunction(name)
	if def := fn.Definition(); !sig.Matches(def.ParamTypes(), def.ResultTypes()) {
		t.Fatalf("%s takes %v and returns %v, FlatFunc says %s", name, def.ParamTypes(), def.ResultTypes(), sig)
	}
	core, err := cabi.LowerArgs(c, params, args)
	if err != nil {
		t.Fatal(err)
	}
	res, err := fn.Call(ctx, core...)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := cabi.LiftResults(c, results, res)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

func TestWazeroSpilledParams(t *testing.T) {
	t.Parallel()
	g := newGuest(t)
	params := make([]*cabi.Type, 17)
	args := make([]any, 17)
	var want uint32
	for i := range params {
		params[i], args[i] = cabi.U32Type, uint32(1000+i)
		want += uint32(i+1) * uint32(1000+i)
	}
	got := g.invoke(t, cabi.UTF8, "weighted17", params, []*cabi.Type{cabi.U32Type}, args...)
	if got[0] != want {
		t.Fatalf("weighted17 = %v, want %d", got[0], want)
	}
}

func TestWazeroSpilledMixed(t *testing.T) {
	t.Parallel()
	g := newGuest(t)
	params := []*cabi.Type{cabi.U8Type, cabi.U64Type, cabi.StringType, cabi.F64Type}
	args := []any{uint8(200), uint64(1 << 40), "Zebra", 1.25}
	var sum uint32
	for i := range 13 {
		params = append(params, cabi.U32Type)
		args = append(args, uint32(i*i))
		sum += uint32(i * i)
	}
	results := []*cabi.Type{cabi.U64Type, cabi.U32Type, cabi.F64Type}
	got := g.invoke(t, cabi.UTF8, "mixed", params, []*cabi.Type{cabi.TupleOf(results...)}, args...)
	want := []any{uint64(200 + 1<<40), uint32(5+'Z') + sum, 2.5}
	tup := got[0].([]any)
	for i := range want {
		if tup[i] != want[i] {
			t.Fatalf("mixed = %v, want %v", tup, want)
		}
	}
}

// TestWazeroMemoryGrows lowers strings bigger than the guest's memory: its
// realloc grows the memory, which moves it in wazero, while the list that
// holds them is being written.
func TestWazeroMemoryGrows(t *testing.T) {
	t.Parallel()
	g := newGuest(t)
	var list []any
	var want uint32
	for i := range 8 {
		s := strings.Repeat(string(rune('a'+i)), 20000)
		list = append(list, s)
		want += 20000 * uint32('a'+i)
	}
	before := g.mod.Memory().Size()
	got := g.invoke(t, cabi.UTF8, "checksum", []*cabi.Type{cabi.ListOf(cabi.StringType)}, []*cabi.Type{cabi.U32Type}, list)
	if got[0] != want {
		t.Fatalf("checksum = %v, want %d", got[0], want)
	}
	if after := g.mod.Memory().Size(); after <= before {
		t.Fatalf("memory %d bytes after, %d before: it did not grow", after, before)
	}
}

func TestWazeroEcho(t *testing.T) {
	t.Parallel()
	g := newGuest(t)
	for _, enc := range []cabi.StringEncoding{cabi.UTF8, cabi.UTF16, cabi.Latin1UTF16} {
		for _, s := range []string{"", "hello", "héllo wörld", "日本語", "emoji \U0001F600", strings.Repeat("ÿ", 70000)} {
			got := g.invoke(t, enc, "echo", []*cabi.Type{cabi.StringType}, []*cabi.Type{cabi.StringType}, s)
			if got[0] != s {
				t.Fatalf("%s: echo(%.20q) = %.20q", enc, s, got[0])
			}
		}
	}
}

// TestWazeroHostImport: the guest calls the host's greet, which lifts its
// arguments and lowers its result through the guest's realloc to the return
// pointer the guest gave.
func TestWazeroHostImport(t *testing.T) {
	t.Parallel()
	g := newGuest(t)
	got := g.invoke(t, cabi.UTF8, "call-host", nil, []*cabi.Type{cabi.StringType})
	if got[0] != "wasm!wasm!wasm!" {
		t.Fatalf("call-host = %q", got[0])
	}
}

// TestWazeroBadGuest: what a guest hands back is checked.
func TestWazeroBadGuest(t *testing.T) {
	t.Parallel()
	g := newGuest(t)
	ctx := context.Background()
	c := call(ctx, g.mod, cabi.UTF8)
	// echo returns whatever (pointer, length) it was given.
	res, err := g.mod.ExportedFunction("echo").Call(ctx, 65000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cabi.LiftResults(c, []*cabi.Type{cabi.StringType}, res)
	if err == nil || err.Error() != "cabi: result 0: utf8 string at 0xfde8 of 1000 bytes past memory end 65536" {
		t.Fatalf("LiftResults error %v", err)
	}
	res, err = g.mod.ExportedFunction("echo").Call(ctx, 1, math.MaxUint32)
	if err != nil {
		t.Fatal(err)
	}
	c.Opts.Encoding = cabi.UTF16
	if _, err = cabi.LiftResults(c, []*cabi.Type{cabi.StringType}, res); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("LiftResults error %v", err)
	}
}

// TestWazeroReallocTraps: a guest whose realloc traps (its memory may not
// grow past two pages) fails the lowering with the trap.
func TestWazeroReallocTraps(t *testing.T) {
	t.Parallel()
	g := newGuestConfig(t, wazero.NewRuntimeConfig().WithMemoryLimitPages(2))
	c := call(context.Background(), g.mod, cabi.UTF8)
	_, err := cabi.LowerArgs(c, []*cabi.Type{cabi.StringType}, []any{strings.Repeat("x", 200000)})
	if err == nil || !strings.HasPrefix(err.Error(), "cabi: param 0: realloc of 200000 bytes for string: ") ||
		!strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("LowerArgs error %v", err)
	}
	// What fits still goes through.
	got := g.invoke(t, cabi.UTF8, "echo", []*cabi.Type{cabi.StringType}, []*cabi.Type{cabi.StringType}, strings.Repeat("y", 100000))
	if got[0] != strings.Repeat("y", 100000) {
		t.Fatal("echo of 100000 bytes in two pages failed")
	}
}
