package runtimepool

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// module assembles a binary from sections.
func module(sections ...[]byte) []byte {
	return append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Join(sections, nil)...)
}

// sec encodes one section.
func sec(id byte, body ...byte) []byte { return wasmbin.AppendSection(nil, id, body) }

var (
	typeNop = sec(1, 1, 0x60, 0, 0) // one type: [] -> []
	funcNop = sec(3, 1, 0)          // one function of type 0
	mem1    = sec(5, 1, 0, 1)       // one memory of one page
)

// TestIsolateInterrupt: in the interrupt-global mode, a call stuck in a loop
// or in deep recursion without loops (only the function entry checks) ends
// when another goroutine interrupts the isolate.
func TestIsolateInterrupt(t *testing.T) {
	cases := []struct {
		name, export string
		args         []uint64
	}{
		{"loop", "forever", nil},
		{"recursion", "fib", []uint64{60}},
	}
	p := newPool(t, Config[any]{Isolates: 1, Interruptible: true})
	if m := p.InterruptMode(); m != InterruptGlobal {
		t.Fatalf("interrupt mode %s, want global", m)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			iso, err := p.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			var fired atomic.Int64
			timer := time.AfterFunc(50*time.Millisecond, func() { fired.Store(int64(time.Since(start))); iso.Interrupt() })
			defer timer.Stop()
			_, err = iso.Module.ExportedFunction(c.export).Call(context.Background(), c.args...)
			if err == nil || !strings.Contains(err.Error(), "unreachable") {
				p.Discard(iso, err)
				t.Fatalf("%s was not interrupted: %v", c.export, err)
			}
			t.Logf("interrupted after %v (timer ran at %v)", time.Since(start), time.Duration(fired.Load()))
			p.Discard(iso, err)
			waitFull(t, p)
		})
	}
}

// TestInterruptAll: busy and idle isolates are interrupted, and so are the
// replacements made afterwards; a pool without the mode is not affected.
func TestInterruptAll(t *testing.T) {
	p := newPool(t, Config[any]{Isolates: 2, Interruptible: true})
	busy, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := busy.Module.ExportedFunction("forever").Call(context.Background())
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	p.InterruptAll()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("forever returned without error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the busy isolate was not interrupted")
	}
	p.Discard(busy, errors.New("interrupted"))
	waitFull(t, p)
	for range p.Size() { // the idle one and the replacement
		iso, err := p.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := call(t, context.Background(), iso, "nop"); err == nil {
			t.Errorf("isolate %s ran after InterruptAll", iso.ID)
		}
		defer p.Discard(iso, errors.New("interrupted"))
	}

	plain := newPool(t, Config[any]{Isolates: 1})
	plain.InterruptAll()
	iso, err := plain.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if iso.Interrupt() {
		t.Error("Interrupt reported success on a pool without the interrupt global")
	}
	if _, err := call(t, context.Background(), iso, "nop"); err != nil {
		t.Error(err)
	}
	plain.Release(iso)
}

// TestInterruptibleFallback: a module the rewriter refuses is served with
// wazero's close-on-context-done instead.
func TestInterruptibleFallback(t *testing.T) {
	// Exports the reserved name already: the rewriter refuses it.
	export := append([]byte{1, byte(len(InterruptExport))}, InterruptExport...)
	wasm := module(mem1, sec(6, 1, 0x7F, 0x01, 0x41, 0x00, 0x0B), sec(7, append(export, 0x03, 0)...))
	p, err := New(context.Background(), wasm, Config[any]{Isolates: 1, Interruptible: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if m := p.InterruptMode(); m != InterruptContext {
		t.Errorf("interrupt mode %s, want context", m)
	}
}

// TestInterruptWithNegativeCountdown: the host's store of 0 to the countdown
// can land between the guest's read and its write of count-1, leaving -1.
// The check must still see the flag at once; with an == 0 test it would run
// 2^32 more checks (seconds) first — seen under load as interruptions that
// came 3-8 s after the timer. A loop of a million iterations must therefore
// trap, not finish.
func TestInterruptWithNegativeCountdown(t *testing.T) {
	p := newPool(t, Config[any]{Isolates: 1, Interruptible: true})
	iso, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	iso.Module.ExportedGlobal(InterruptExport).(api.MutableGlobal).Set(1)
	iso.Module.ExportedGlobal(CountdownExport).(api.MutableGlobal).Set(0xFFFFFFFF) // -1
	_, err = iso.Module.ExportedFunction("spin").Call(context.Background(), 1_000_000)
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("a million iterations with the flag set and the countdown at -1: %v, want a trap", err)
	}
	p.Discard(iso, err)
}
