package runtimepool

import (
	"context"
	"strings"
	"testing"
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
