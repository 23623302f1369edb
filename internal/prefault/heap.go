package prefault

import (
	"runtime"
	"runtime/debug"
	"sync"
	"unsafe"
)

// minWarm is the smallest WarmHeap worth its garbage collection.
const minWarm = 8 << 20

// warmSlack is how far, beyond twice the warm-up, the heap may grow before
// the collector runs during it.
const warmSlack = 64 << 20

// warming lets one WarmHeap at a time change the collector's settings, so
// that concurrent calls cannot restore each other's.
var warming sync.Mutex

// WarmHeap readies about n bytes of Go heap, mapped in advance, for the
// allocations that follow, and returns the function that ends the warm-up;
// call it once they are done.
//
// A start-up allocates tens of megabytes once: the module, its decoded form,
// the guests' linear memories. Fresh heap pages fault one at a time as they
// are first written. WarmHeap instead allocates n bytes, maps them in one
// system call (in transparent huge pages where the kernel allows it),
// and lets the garbage collector free them at once, so that the heap reuses
// those pages. Until done the collector runs only if the heap passes twice
// n and 64 MiB more (a memory limit; a lower GOMEMLIMIT stays), as it is
// its pacing that would otherwise hand the free pages back to the kernel;
// the bound is for the start-up that allocates far more than n, such as one
// that compiles the module. done stops asking for huge pages and, in the
// background, collects once, returns what the start-up left unused to the
// kernel and restores the GC percentage and the memory limit.
//
// Below 8 MiB, or while another warm-up runs, it does nothing.
func WarmHeap(n int) (done func()) {
	if n < minWarm || !warming.TryLock() {
		return func() {}
	}
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(min(debug.SetMemoryLimit(-1), int64(2*n+warmSlack)))
	b := make([]byte, n)
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	hugePages(addr, n, true)
	populate(b)
	b = nil
	runtime.GC()
	var once sync.Once
	return func() {
		once.Do(func() {
			hugePages(addr, n, false)
			go func() {
				// One collection, with the percentage still off, then
				// the pacing starts from the heap that is left.
				debug.FreeOSMemory()
				debug.SetMemoryLimit(limit)
				debug.SetGCPercent(percent)
				warming.Unlock()
			}()
		})
	}
}
