package runtimepool

import (
	"context"
	"testing"
	"time"
)

// BenchmarkInterruption measures what interruptibility costs per call (nop)
// and per loop iteration (spin): "off" is none, "on" wazero's
// close-on-context-done with a context that has a deadline, "global" the
// rewritten module's interrupt global (the context is never done).
// RATIONALE.md records the numbers.
func BenchmarkInterruption(b *testing.B) {
	const iterations = 1 << 20
	for _, name := range []string{"off", "on", "global"} {
		on := name == "on"
		p := newPool(b, Config[any]{Isolates: 1, CloseOnContextDone: on, Interruptible: name == "global"})
		iso, err := p.Acquire(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		ctx := func() (context.Context, context.CancelFunc) {
			if !on {
				return context.Background(), func() {}
			}
			return context.WithTimeout(context.Background(), time.Hour)
		}
		nop, spin := iso.Module.ExportedFunction("nop"), iso.Module.ExportedFunction("spin")
		b.Run("call/"+name, func(b *testing.B) {
			for b.Loop() {
				c, cancel := ctx()
				if _, err := nop.Call(c); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
		})
		b.Run("loop/"+name, func(b *testing.B) {
			for b.Loop() {
				c, cancel := ctx()
				if _, err := spin.Call(c, iterations); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/iterations, "ns/iteration")
		})
		p.Release(iso)
	}
}
