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

// TestWarmHeapGCPercent: collection is off between WarmHeap and the end of
// done's background work and comes back as it was; a warm-up too small, or
// one while another runs, changes nothing, and its done neither.
func TestWarmHeapGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	cases := []struct {
		name   string
		n      int
		nested bool // a second warm-up runs and ends inside this one
		want   int  // the percentage until done
	}{
		{"too small", minWarm - 1, false, 150},
		{"warm", minWarm, false, -1},
		{"warm with a nested one", minWarm, true, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			done := WarmHeap(c.n)
			if c.nested {
				WarmHeap(minWarm)()
			}
			if p := gcPercent(); p != c.want {
				t.Errorf("GC percentage %d during the warm-up, want %d", p, c.want)
			}
			done()
			done()
			waitWarmed(t)
			if p := gcPercent(); p != 150 {
				t.Errorf("GC percentage %d after done, want 150 back", p)
			}
		})
	}
}
