package kv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
	contract "github.com/wasmserve/wasmserve/abi/kv"
	"github.com/wasmserve/wasmserve/internal/hostmodule"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestInstall: the host module defines exactly the contract's table.
func TestInstall(t *testing.T) {
	t.Parallel()
	e, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := hostmodule.Verify(context.Background(), contract.ModuleName, contract.Functions, e.Install); err != nil {
		t.Fatal(err)
	}
}

// guest is host/testdata/kvabi.wasm instantiated with an extension: every
// host function of wasmserve_kv, callable with any arguments.
type guest struct {
	t   *testing.T
	e   *Extension
	mod api.Module
	iso interface {
		Begin(context.Context, time.Time)
		End()
	}
}

// newGuest instantiates kvabi.wasm with the extension of cfg, bound, and
// begins a request with the deadline (zero: none).
func newGuest(t *testing.T, cfg Config, deadline time.Time) *guest {
	t.Helper()
	ctx := context.Background()
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(ctx) })
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	if err := e.Install(ctx, rt); err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(testguest.Path("host/testdata/kvabi.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Validate(cm); err != nil {
		t.Fatal(err)
	}
	ictx, iso := e.NewIsolate(ctx, "i1")
	mod, err := rt.InstantiateModule(ictx, cm, wazero.NewModuleConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := iso.Bind(mod); err != nil {
		t.Fatal(err)
	}
	iso.Begin(ctx, deadline)
	return &guest{t: t, e: e, mod: mod, iso: iso}
}

// call calls the export fn and returns its result, or the trap's error.
func (g *guest) call(fn string, args ...uint64) (uint64, error) {
	r, err := g.mod.ExportedFunction(fn).Call(context.Background(), args...)
	if err != nil {
		return 0, err
	}
	return r[0], nil
}

// must calls fn and fails the test on a trap.
func (g *guest) must(fn string, args ...uint64) uint64 {
	g.t.Helper()
	r, err := g.call(fn, args...)
	if err != nil {
		g.t.Fatalf("%s: %v", fn, err)
	}
	return r
}

// code32 and code64 read a result as the signed value the guest sees.
func code32(r uint64) int32 { return int32(uint32(r)) }
func code64(r uint64) int64 { return int64(r) }

// put writes b at ptr in guest memory and returns (ptr, len).
func (g *guest) put(ptr uint32, b string) (uint64, uint64) {
	g.t.Helper()
	if !g.mod.Memory().Write(ptr, []byte(b)) {
		g.t.Fatal("write out of range")
	}
	return uint64(ptr), uint64(len(b))
}

// read reads n bytes at ptr.
func (g *guest) read(ptr, n uint32) []byte {
	b, _ := g.mod.Memory().Read(ptr, n)
	return bytes.Clone(b)
}

// lastError reads get_error's message.
func (g *guest) lastError() string {
	g.t.Helper()
	n := uint32(g.must(contract.FuncGetError, 60000, 1000))
	return string(g.read(60000, n))
}

// Addresses in the guest's one page of memory.
const (
	pName  = 0
	pKey   = 1000
	pValue = 2000
	pBuf   = 10000
	pOut   = 20000
)

// TestABI: each function's results, codes and messages, called as a guest
// calls them.
func TestABI(t *testing.T) {
	t.Parallel()
	g := newGuest(t, Config{Stores: []StoreConfig{{"default", "mem:"}, {"other", "mem:"}}, MaxValue: 64}, time.Time{})

	n, l := g.put(pName, "other")
	if h := code32(g.must(contract.FuncOpen, n, l)); h != 2 {
		t.Fatalf("open other = %d, want 2 (the second store)", h)
	}
	n, l = g.put(pName, "nope")
	if h := code32(g.must(contract.FuncOpen, n, l)); h != int32(contract.CodeNoStore) {
		t.Fatalf("open nope = %d, want no store", h)
	}
	if msg := g.lastError(); msg != `open: no store named "nope" is configured (--kv-store NAME=URL)` {
		t.Errorf("get_error = %q", msg)
	}
	n, l = g.put(pName, "default")
	h := g.must(contract.FuncOpen, n, l)
	if h != 1 {
		t.Fatalf("open default = %d", h)
	}

	k, kl := g.put(pKey, "greeting")
	v, vl := g.put(pValue, "hello, world")
	if r := code32(g.must(contract.FuncGet, h, k, kl, pBuf, 100)); r != int32(contract.CodeNotFound) {
		t.Fatalf("get of an absent key = %d, want not found", r)
	}
	if r := code32(g.must(contract.FuncSet, h, k, kl, v, vl, 0)); r != 0 {
		t.Fatalf("set = %d: %s", r, g.lastError())
	}
	if r := code32(g.must(contract.FuncExists, h, k, kl)); r != 1 {
		t.Fatalf("exists = %d", r)
	}

	// A buffer too small gets the length, nothing written; the value is
	// kept, so the next get of the key returns the same value even if the
	// store changed meanwhile.
	if r := code64(g.must(contract.FuncGet, h, k, kl, pBuf, 4)); r != 12 {
		t.Fatalf("get with a 4-byte buffer = %d, want the length 12", r)
	}
	if b := g.read(pBuf, 4); !bytes.Equal(b, make([]byte, 4)) {
		t.Fatalf("get with a small buffer wrote %q", b)
	}
	g.e.Store("default").Set(context.Background(), "greeting", []byte("changed"), 0)
	if r := code64(g.must(contract.FuncGet, h, k, kl, pBuf, 100)); r != 12 || string(g.read(pBuf, 12)) != "hello, world" {
		t.Fatalf("get after a small buffer = %d %q, want the kept value", r, g.read(pBuf, 12))
	}
	if r := code64(g.must(contract.FuncGet, h, k, kl, pBuf, 100)); r != 7 || string(g.read(pBuf, 7)) != "changed" {
		t.Fatalf("a later get = %d %q, want the store's value", r, g.read(pBuf, 7))
	}

	// Increment writes the sum at the result pointer.
	c, cl := g.put(pKey+300, "n")
	for i, want := range []int64{-5, 37} {
		delta := []int64{-5, 42}[i]
		if r := code32(g.must(contract.FuncIncrement, h, c, cl, uint64(delta), pOut)); r != 0 {
			t.Fatalf("increment = %d: %s", r, g.lastError())
		}
		if got := int64(binary.LittleEndian.Uint64(g.read(pOut, 8))); got != want {
			t.Fatalf("increment wrote %d, want %d", got, want)
		}
	}
	if r := code32(g.must(contract.FuncIncrement, h, k, kl, 1, pOut)); r != int32(contract.CodeNotNumber) {
		t.Fatalf("increment of text = %d, want not a number", r)
	}

	// Compare and swap.
	old, ol := g.put(pValue, "changed")
	nv, nl := g.put(pValue+100, "swapped")
	if r := code32(g.must(contract.FuncCompareAndSwap, h, k, kl, old, ol, nv, nl, 0)); r != 1 {
		t.Fatalf("compare_and_swap on the right value = %d", r)
	}
	if r := code32(g.must(contract.FuncCompareAndSwap, h, k, kl, old, ol, nv, nl, 0)); r != 0 {
		t.Fatalf("compare_and_swap on a wrong value = %d", r)
	}
	if r := code32(g.must(contract.FuncCompareAndSwap, h, k, kl, 0, 0, nv, nl, uint64(contract.FlagOldAbsent))); r != 0 {
		t.Fatalf("compare_and_swap when absent, of a present key = %d", r)
	}
	if r := code32(g.must(contract.FuncCompareAndSwap, h, k, kl, 0, 0, nv, nl, 4)); r != int32(contract.CodeInvalid) {
		t.Fatalf("compare_and_swap with unknown flags = %d", r)
	}

	// Keys: the cursor, then the keys, each ending in a NUL.
	p, pl := g.put(pKey+400, "")
	r := g.must(contract.FuncKeys, h, p, pl, 0, 0, pBuf, 1000)
	count, length := abi.DecodeCountLen(r)
	if got := string(g.read(pBuf, length)); count != 2 || got != "\x00greeting\x00n\x00" {
		t.Fatalf("keys = %d keys, %q", count, got)
	}

	// Delete says whether the key was there.
	if r := code32(g.must(contract.FuncDelete, h, k, kl)); r != 1 {
		t.Fatalf("delete = %d", r)
	}
	if r := code32(g.must(contract.FuncDelete, h, k, kl)); r != 0 {
		t.Fatalf("second delete = %d", r)
	}

	// Refusals, each with its code and a message.
	big := strings.Repeat("v", 65)
	bv, bl := g.put(pValue, big)
	empty, _ := g.put(pKey+500, "")
	nul, nulLen := g.put(pKey+600, "a\x00b")
	refusals := []struct {
		name string
		fn   string
		args []uint64
		code contract.Code
		msg  string
	}{
		{"unknown handle", contract.FuncGet, []uint64{9, k, kl, pBuf, 10}, contract.CodeHandle, "get: no store has handle 9"},
		{"handle 0", contract.FuncExists, []uint64{0, k, kl}, contract.CodeHandle, "exists: no store has handle 0"},
		{"empty key", contract.FuncSet, []uint64{h, empty, 0, v, vl, 0}, contract.CodeInvalid, `store "default": set: empty key`},
		{"NUL in key", contract.FuncDelete, []uint64{h, nul, nulLen}, contract.CodeInvalid, `store "default": delete: key holds a NUL byte`},
		{"value too big", contract.FuncSet, []uint64{h, k, kl, bv, bl, 0}, contract.CodeTooBig, `store "default": set "greeting": a value of 65 bytes, over the largest, 64`},
		{"swap too big", contract.FuncCompareAndSwap, []uint64{h, k, kl, 0, 0, bv, bl, 1}, contract.CodeTooBig, "a value of 65 bytes"},
		{"negative ttl", contract.FuncSet, []uint64{h, k, kl, v, vl, uint64(1<<64 - 1)}, contract.CodeInvalid, "negative TTL -1 ms"},
		{"prefix with NUL", contract.FuncKeys, []uint64{h, nul, nulLen, 0, 0, pBuf, 100}, contract.CodeInvalid, `keys: invalid prefix "a\x00b"`},
	}
	for _, tt := range refusals {
		r := g.must(tt.fn, tt.args...)
		got := int64(int32(uint32(r)))
		if tt.fn == contract.FuncGet || tt.fn == contract.FuncKeys {
			got = code64(r)
		}
		if got != int64(tt.code) {
			t.Errorf("%s: %s = %d, want %d (%s)", tt.name, tt.fn, got, tt.code, tt.code)
			continue
		}
		if msg := g.lastError(); !strings.Contains(msg, tt.msg) {
			t.Errorf("%s: get_error = %q, want %q in it", tt.name, msg, tt.msg)
		}
	}

	// Metrics: counted by store, operation and result.
	for _, m := range []struct {
		op, result string
		want       float64
	}{
		{"get", "ok", 2}, {"get", "not_found", 1}, {"set", "ok", 1}, {"set", "too_big", 1}, {"set", "invalid", 2},
		{"increment", "not_a_number", 1}, {"compare_and_swap", "ok", 3}, {"compare_and_swap", "invalid", 1},
	} {
		if got := counterValue(t, g.e.metrics.ops.WithLabelValues("default", m.op, m.result)); got != m.want {
			t.Errorf("wasmserve_kv_operations_total{op=%q,result=%q} = %v, want %v", m.op, m.result, got, m.want)
		}
	}
	if got := counterValue(t, g.e.metrics.bytes.WithLabelValues("default", "read")); got != 19 {
		t.Errorf("bytes read = %v, want 19 (12 + 7)", got)
	}

	// Outside a request: every operation but open says so.
	g.iso.End()
	if r := code64(g.must(contract.FuncGet, h, k, kl, pBuf, 100)); r != int64(contract.CodeNoRequest) {
		t.Errorf("get outside a request = %d, want no request", r)
	}
	if h2 := g.must(contract.FuncOpen, n, l); h2 != 1 {
		t.Errorf("open outside a request = %d", h2)
	}
}

// TestABITraps: a range outside the guest's memory traps the call, naming
// the function.
func TestABITraps(t *testing.T) {
	t.Parallel()
	g := newGuest(t, Config{Stores: []StoreConfig{{"default", "mem:"}}}, time.Time{})
	k, kl := g.put(pKey, "k")
	tests := []struct {
		name string
		fn   string
		args []uint64
	}{
		{"name", contract.FuncOpen, []uint64{65530, 100}},
		{"key", contract.FuncGet, []uint64{1, 70000, 3, pBuf, 10}},
		{"value", contract.FuncSet, []uint64{1, k, kl, 65000, 1000, 0}},
		{"result", contract.FuncIncrement, []uint64{1, k, kl, 1, 65532}},
		{"error buffer", contract.FuncGetError, []uint64{1 << 20, 0}},
	}
	g.put(pValue, "x")
	g.must(contract.FuncSet, 1, k, kl, pValue, 1, 0)
	for _, tt := range tests {
		_, err := g.call(tt.fn, tt.args...)
		var te *TrapError
		if !errors.As(err, &te) && (err == nil || !strings.Contains(err.Error(), "wasmserve_kv."+tt.fn+": memory range")) {
			t.Errorf("%s: %s returned %v, want a trap naming it", tt.name, tt.fn, err)
		}
	}
	// A get whose value does not fit writes nothing, so a buffer out of
	// range with a limit of 0 is no trap: it asks for the length.
	if r := code64(g.must(contract.FuncGet, 1, k, kl, 1<<20, 0)); r != 1 {
		t.Errorf("get with buf_limit 0 = %d, want the length", r)
	}
}

// TestABIRedisTimeout: an operation on a Redis server that never answers
// fails with CodeTimeout at the request's deadline, not later.
func TestABIRedisTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts, reads, never answers
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 512)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	g := newGuest(t, Config{Stores: []StoreConfig{{"slow", "redis://" + ln.Addr().String() + "/0"}}, Timeout: time.Minute},
		time.Now().Add(300*time.Millisecond))
	k, kl := g.put(pKey, "k")
	start := time.Now()
	r := code32(g.must(contract.FuncIncrement, 1, k, kl, 1, pOut))
	if r != int32(contract.CodeTimeout) {
		t.Fatalf("increment on a silent Redis = %d (%s), want timeout", r, g.lastError())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the increment took %s, with a deadline 300ms away", d)
	}
	if err := g.e.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), `kv store "slow"`) {
		t.Errorf("Ready with a silent Redis: %v", err)
	}
}

// TestParseStore: NAME=URL, and the errors of what is not.
func TestParseStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, name, url, err string
	}{
		{"default=file:kv.db", "default", "file:kv.db", ""},
		{"cache=redis://h:6379/0", "cache", "redis://h:6379/0", ""},
		{"a.b_c-d=mem:", "a.b_c-d", "mem:", ""},
		{"default", "", "", "want NAME=URL"},
		{"default=", "", "", "want NAME=URL"},
		{"=mem:", "", "", "a store name is 1 to 64"},
		{"-x=mem:", "", "", "a store name is 1 to 64"},
	}
	for _, tt := range tests {
		sc, err := ParseStore(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseStore(%q) = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || sc.Name != tt.name || sc.URL != tt.url {
			t.Errorf("ParseStore(%q) = %+v, %v", tt.in, sc, err)
		}
	}
}

// TestNewErrors: a store name twice, or a store that cannot open, fails New.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{Stores: []StoreConfig{{"a", "mem:"}, {"a", "mem:"}}}, nil); err == nil || !strings.Contains(err.Error(), `kv store "a" is configured twice`) {
		t.Errorf("a name twice: %v", err)
	}
	if _, err := New(Config{Stores: []StoreConfig{{"a", "nope:"}}}, nil); err == nil || !strings.Contains(err.Error(), `kv store "a": store URL "nope:": unknown scheme`) {
		t.Errorf("a bad URL: %v", err)
	}
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
