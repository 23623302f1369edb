package prefault

import (
	"runtime/debug"
	"testing"
	"time"
)

// gcPercent reads the GC percentage.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// waitWarmed waits until the warm-up's background work has ended.
func waitWarmed(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if warming.TryLock() {
			warming.Unlock()
			return
		}
	}
	t.Fatal("the warm-up did not end within 10 s of done")
}

// TestWarmHeapGCSettings: collection is off, but for a memory limit, between
// WarmHeap and the end of done's background work, and both settings come
// back as they were; a warm-up too small, or one while another runs,
// changes nothing, and its done neither.
func TestWarmHeapGCSettings(t *testing.T) {
	const percent, limit = 150, 1 << 40
	defer debug.SetGCPercent(debug.SetGCPercent(percent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	cases := []struct {
		name      string
		n         int
		nested    bool // a second warm-up runs and ends inside this one
		wantPct   int  // the settings until done
		wantLimit int64
	}{
		{"too small", minWarm - 1, false, percent, limit},
		{"warm", minWarm, false, -1, 2*minWarm + warmSlack},
		{"warm with a nested one", minWarm, true, -1, 2*minWarm + warmSlack},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			done := WarmHeap(c.n)
			if c.nested {
				WarmHeap(minWarm)()
			}
			if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != c.wantPct || l != c.wantLimit {
				t.Errorf("GC percentage %d and memory limit %d during the warm-up, want %d and %d", p, l, c.wantPct, c.wantLimit)
			}
			done()
			done()
			waitWarmed(t)
			if p, l := gcPercent(), debug.SetMemoryLimit(-1); p != percent || l != limit {
				t.Errorf("GC percentage %d and memory limit %d after done, want %d and %d back", p, l, percent, limit)
			}
		})
	}
	t.Run("lower limit kept", func(t *testing.T) {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(minWarm))
		done := WarmHeap(minWarm)
		defer waitWarmed(t)
		defer done()
		if l := debug.SetMemoryLimit(-1); l != minWarm {
			t.Errorf("memory limit %d during the warm-up, want the lower %d kept", l, minWarm)
		}
	})
}
