package runtimepool

import (
	"context"
	"testing"
	"time"
)

// BenchmarkInterruption measures what wazero's close-on-context-done costs:
// per call (nop) and per loop iteration (spin), with interruption off (a
// context that is never done) and on (a context with a deadline). Compare
// the "off" and "on" lines; RATIONALE.md records the numbers.
func BenchmarkInterruption(b *testing.B) {
	const iterations = 1 << 20
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		p := newPool(b, Config{Isolates: 1, CloseOnContextDone: on})
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
