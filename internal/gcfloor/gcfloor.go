// Package gcfloor keeps the Go garbage collector's heap goal at or above a
// floor. Go's default goal is twice the live heap, at least 4 MiB: a
// server whose live heap is a few MiB collects every few tens of
// milliseconds under load, and each cycle costs more than its own work
// (write barriers while it marks, assists, caches refilled). Raising the
// goal to a floor while the live heap is small makes cycles rarer, at the
// price of heap up to the floor; once the live heap is large enough that
// GOGC's own goal passes the floor, nothing changes.
package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// basePercent is GOGC's default, the percent the floor never goes below.
const basePercent = 100

// maxPercent bounds the percent set for a tiny live heap.
const maxPercent = 1 << 20

// Percent returns the GOGC percent that puts the heap goal, live ×
// (1 + percent/100), at floor or above: base when that already does, or
// when live or floor is zero.
func Percent(live, floor uint64, base int) int {
	if live == 0 || floor <= live {
		return base
	}
	p := (floor - live) * 100 / live
	if (floor-live)*100%live != 0 {
		p++
	}
	if p > maxPercent {
		p = maxPercent
	}
	return max(base, int(p))
}

// Start keeps the heap goal at or above floor bytes from now until stop is
// called, adjusting the GC percent after every collection from the live
// heap it left. It does nothing (and stop does nothing) when floor is zero
// or when the GOGC environment variable is set: the operator's own choice
// stands. The GOMEMLIMIT soft limit, when set, still bounds the heap.
func Start(floor uint64) (stop func()) {
	if floor == 0 || os.Getenv("GOGC") != "" {
		return func() {}
	}
	t := &tuner{floor: floor, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}}
	t.adjust()
	t.arm()
	return func() {
		if t.stopped.CompareAndSwap(false, true) {
			debug.SetGCPercent(basePercent)
		}
	}
}

// tuner adjusts the GC percent from a finalizer that runs after each
// collection (a sentinel object made anew every time).
type tuner struct {
	floor   uint64
	sample  []metrics.Sample // read only by the finalizer goroutine, and by Start before it
	percent int
	stopped atomic.Bool
}

type sentinel struct{ _ [16]byte } // not zero-sized: a finalizer needs an allocation of its own

func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		if t.stopped.Load() {
			return
		}
		t.adjust()
		t.arm()
	})
}

// adjust sets the percent for the live heap now, when it changed by more
// than a twentieth (each change recomputes the collector's pacing). Before
// the first collection the live heap is unknown (0): the heap's objects,
// live or not, stand in for it, an overestimate.
func (t *tuner) adjust() {
	metrics.Read(t.sample)
	var live uint64
	for _, s := range t.sample {
		if s.Value.Kind() == metrics.KindUint64 {
			if live = s.Value.Uint64(); live > 0 {
				break
			}
		}
	}
	p := Percent(live, t.floor, basePercent)
	if d := p - t.percent; d > t.percent/20 || -d > t.percent/20 {
		t.percent = p
		debug.SetGCPercent(p)
	}
}
