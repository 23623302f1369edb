package runtimepool

import (
	"context"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// stateAfterStart is what reset.wasm's state() answers right after its start
// function: $g 42, byte 16 0x5A, the last byte 0, byte 0 7 (its data).
const stateAfterStart = 42<<32 | 0x5A<<16 | 7

func TestResetRestoresStateAfterStart(t *testing.T) {
	cases := []struct {
		name          string
		interruptible bool
		max           int
	}{
		{"fresh every call", false, 1},
		{"fresh every call, interruptible", true, 1},
		{"three calls each", false, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := New(context.Background(), readWasm(t, "reset.wasm"),
				Config[any]{Isolates: 1, MaxRequestsPerIsolate: c.max, Interruptible: c.interruptible})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(context.Background())
			if b := p.Stats().ResetBlocker; b != "" {
				t.Fatalf("reset blocked: %s", b)
			}
			var id string
			for i := range 3 * c.max {
				iso, err := p.Acquire(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if id == "" {
					id = iso.ID
				} else if iso.ID != id {
					t.Fatalf("call %d: isolate %s, want %s reset rather than replaced", i, iso.ID, id)
				}
				got, err := call(t, context.Background(), iso, "state")
				if err != nil {
					t.Fatal(err)
				}
				// The first call of each round sees the state
				// after start; later ones see what dirty left.
				if fresh := i%c.max == 0; fresh != (got == stateAfterStart) {
					t.Fatalf("call %d: state %#x, fresh %v (state after start %#x)", i, got, fresh, stateAfterStart)
				}
				if _, err := call(t, context.Background(), iso, "dirty"); err != nil {
					t.Fatal(err)
				}
				p.Release(iso)
			}
			waitFull(t, p) // the last reset runs in the background
			if p.Resets() != 3 || p.Retired() != 0 {
				t.Errorf("%d resets and %d retired, want 3 and 0", p.Resets(), p.Retired())
			}
		})
	}
}

// TestResetAfterGrowReplaces: memory cannot shrink, so an isolate whose
// memory grew is replaced by a new instance.
func TestResetAfterGrowReplaces(t *testing.T) {
	p, err := New(context.Background(), readWasm(t, "reset.wasm"), Config[any]{Isolates: 1, MaxRequestsPerIsolate: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	iso, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	first := iso.ID
	if _, err := call(t, context.Background(), iso, "grow"); err != nil {
		t.Fatal(err)
	}
	p.Release(iso)
	iso, err = p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(iso)
	if iso.ID == first || p.Retired() != 1 || p.Resets() != 0 {
		t.Errorf("isolate %s after %s, %d retired, %d resets: want a replacement", iso.ID, first, p.Retired(), p.Resets())
	}
	if size := iso.Module.Memory().Size(); size != 1<<16 {
		t.Errorf("replacement memory %d bytes, want one page", size)
	}
}

// TestResetBlockedByRandomAtStart: a start function that read random bytes
// would replay them after a reset, so such a module gets new instances,
// each with its own bytes.
func TestResetBlockedByRandomAtStart(t *testing.T) {
	p, err := New(context.Background(), readWasm(t, "reset_rand.wasm"), Config[any]{Isolates: 1, MaxRequestsPerIsolate: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if b := p.Stats().ResetBlocker; !strings.Contains(b, "random_get") {
		t.Fatalf("reset blocker %q, want one naming random_get", b)
	}
	seeds := map[uint64]bool{}
	for range 3 {
		iso, err := p.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s, err := call(t, context.Background(), iso, "seed")
		if err != nil {
			t.Fatal(err)
		}
		seeds[s] = true
		p.Release(iso)
	}
	if len(seeds) != 3 || p.Resets() != 0 {
		t.Errorf("%d distinct seeds in 3 isolates, %d resets: want new instances", len(seeds), p.Resets())
	}
}

// TestResetBlockers: what rewrite finds that keeps state outside memory and
// globals.
func TestResetBlockers(t *testing.T) {
	imp := func(module, name string, kind byte, desc ...byte) []byte {
		b := wasmbin.AppendU32(nil, uint32(len(module)))
		b = append(b, module...)
		b = wasmbin.AppendU32(b, uint32(len(name)))
		b = append(b, name...)
		return append(append(b, kind), desc...)
	}
	imports := func(entries ...[]byte) []byte {
		body := []byte{byte(len(entries))}
		for _, e := range entries {
			body = append(body, e...)
		}
		return sec(2, body...)
	}
	typeI := sec(1, 1, 0x60, 0, 0)
	fn := sec(3, 1, 0)
	body := func(code ...byte) []byte {
		f := append([]byte{0}, code...)
		return sec(10, append([]byte{1, byte(len(f))}, f...)...)
	}
	cases := []struct {
		name string
		in   []byte
		want string // a part of the blocker; "" for none
	}{
		{"memory and globals only", module(typeI, fn, mem1, sec(6, 1, 0x7E, 0x01, 0x42, 0x00, 0x0B), body(0x0B)), ""},
		{"ABI and stateless WASI imports",
			module(typeI, imports(imp("http_handler", "log", 0, 0), imp("wasi_snapshot_preview1", "fd_write", 0, 0),
				imp("wasi_snapshot_preview1", "random_get", 0, 0)), mem1), ""},
		{"path_open", module(typeI, imports(imp("wasi_snapshot_preview1", "path_open", 0, 0)), mem1),
			"wasi_snapshot_preview1.path_open"},
		{"another host module", module(typeI, imports(imp("env", "f", 0, 0)), mem1), "env.f"},
		{"imported memory", module(imports(imp("env", "m", 2, 0, 1))), "imports its memory"},
		{"imported table", module(imports(imp("env", "t", 1, 0x70, 0, 1)), mem1), "imports a table"},
		{"imported mutable global", module(imports(imp("env", "g", 3, 0x7F, 1)), mem1), "mutable global"},
		{"imported constant global", module(imports(imp("env", "g", 3, 0x7F, 0)), mem1), ""},
		{"mutable funcref global", module(mem1, sec(6, 1, 0x70, 0x01, 0xD0, 0x70, 0x0B)), "global 0"},
		{"shared memory", module(sec(5, 1, 0x03, 1, 1)), "shared memory"},
		{"two memories", module(sec(5, 2, 0, 1, 0, 1)), "more than one memory"},
		{"table.set", module(typeI, fn, mem1, body(0x41, 0, 0xD0, 0x70, 0x26, 0, 0x0B)), "table.set"},
		{"table.grow", module(typeI, fn, mem1, body(0xD0, 0x70, 0x41, 1, 0xFC, 15, 0, 0x1A, 0x0B)), "table.grow"},
		{"data.drop", module(typeI, fn, mem1, body(0xFC, 9, 0, 0x0B)), "data.drop"},
		{"memory.fill is fine", module(typeI, fn, mem1, body(0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 11, 0, 0x0B)), ""},
	}
	t.Run("host module not declared reset-safe", func(t *testing.T) {
		_, info, err := rewrite(module(typeI, imports(imp("http_handler", "log", 0, 0)), mem1), false)
		if err != nil {
			t.Fatal(err)
		}
		if got := hostResetBlocker(info.hostImports, nil); !strings.Contains(got, "http_handler.log") {
			t.Errorf("blocker %q, want one naming http_handler.log", got)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, info, err := rewrite(c.in, false)
			if err != nil {
				t.Fatal(err)
			}
			got := info.resetBlocker
			if got == "" {
				got = hostResetBlocker(info.hostImports, []string{"http_handler"})
			}
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Errorf("blocker %q, want %q", got, c.want)
			}
		})
	}
}
