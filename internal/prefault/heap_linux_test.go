package prefault

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWarmHeapFaults: a large allocation made after WarmHeap finds its pages
// mapped already. The same allocation before it shows the faults it would
// take otherwise (else the heap had the pages anyway, and the test proves
// nothing).
func TestWarmHeapFaults(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory faults too")
	}
	const size = 32 << 20
	page := unix.Getpagesize()
	pages := int64(size / page)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	touch := func() ([]byte, int64) {
		// Counted from before make: the heap clears reused memory
		// there, and that write is where its faults are taken.
		before := threadFaults(t)
		b := make([]byte, size)
		for i := 0; i < len(b); i += page {
			b[i] = 1
		}
		return b, threadFaults(t) - before
	}
	cold, faults := touch()
	defer runtime.KeepAlive(cold)
	if faults < pages/2 {
		t.Skipf("a fresh %d MiB allocation took only %d page faults: the heap had its pages already", size>>20, faults)
	}
	done := WarmHeap(2 * size)
	warm, faults := touch()
	done()
	waitWarmed(t)
	runtime.KeepAlive(warm)
	if faults > pages/16 {
		t.Errorf("%d page faults writing %d pages after WarmHeap, want at most %d", faults, pages, pages/16)
	}
}
