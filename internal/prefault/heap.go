package prefault

import (
	"runtime"
	"runtime/debug"
	"sync"
	"unsafe"
)

// minWarm is the smallest WarmHeap worth its garbage collection.
const minWarm = 8 << 20

// warming lets one WarmHeap at a time change the GC percentage, so that
// concurrent calls cannot restore each other's setting.
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
// those pages. Garbage collection stays off until done, as it is the
// collector's pacing that would otherwise hand the free pages back to the
// kernel. done stops asking for huge pages and, in the background, collects
// once, returns what the start-up left unused to the kernel and restores
// the GC percentage.
//
// Below 8 MiB, or while another warm-up runs, it does nothing.
func WarmHeap(n int) (done func()) {
	if n < minWarm || !warming.TryLock() {
		return func() {}
	}
	percent := debug.SetGCPercent(-1)
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
				debug.SetGCPercent(percent)
				warming.Unlock()
			}()
		})
	}
}
