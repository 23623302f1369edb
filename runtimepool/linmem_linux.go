//go:build linux

package runtimepool

import (
	"context"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// An isolate's linear memory lives in an anonymous mapping of its own,
// outside the Go heap, reserved up front at the memory's maximum: growing
// it makes more of the reservation readable and writable, where wazero's
// default allocator appends to a Go slice and copies the whole memory at
// every memory.grow. A Go guest grows its memory a dozen times while its
// runtime starts, which made the copies most of what a new isolate cost
// (BENCHMARKS.md). The mapping is also invisible to the host's garbage
// collector, whose heap no longer holds every isolate's memory.
//
// Freeing is in two steps, because wazero frees a memory when its module
// is closed, and a module can be closed while a call is still running in
// it (wazero's close-on-context-done closes it from another goroutine):
// Free gives the pages back to the kernel (madvise), so that a call still
// running reads zeros rather than faulting, and the address range is
// unmapped only once the module is unreachable (runtime.AddCleanup on it),
// when no call can run in it any more.

// mappedMemory is one linear memory in its own mapping.
type mappedMemory struct {
	// mu orders a memory.grow against a Free from another goroutine.
	mu        sync.Mutex
	region    []byte // the reservation, max bytes; beyond committed, PROT_NONE
	committed int    // bytes readable and writable
	freed     bool
	image     *memImage // mapped at the start of the memory by its first commit
	budget    *memBudget
}

// memBudget bounds the bytes all the memories of one isolate commit
// together: a component instance has a memory per core instance, and the
// memory limit holds over their sum.
type memBudget struct {
	mu    sync.Mutex
	limit int // bytes; 0 means no bound
	used  int
}

// force counts n bytes whatever the limit.
func (b *memBudget) force(n int) {
	if b != nil {
		b.mu.Lock()
		b.used += n
		b.mu.Unlock()
	}
}

// take reserves n more bytes, reporting false past the limit.
func (b *memBudget) take(n int) bool {
	if b == nil || n <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit > 0 && b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

// mappedLive counts reservations not yet unmapped, for the tests.
var mappedLive atomic.Int64

// mappedPending counts reservations freed but waiting for their module to
// become unreachable.
var mappedPending atomic.Int64

// maxPendingMappings is how many freed reservations may wait for a garbage
// collection before one is started: the mappings are outside the Go heap,
// so they do not make the collector run, and each holds address space and
// a kernel mapping (vm.max_map_count is 65530 by default).
const maxPendingMappings = 256

// memoryAllocator is the allocator of one instantiation: it remembers the
// memory it made, so that the pool can tie its unmapping to the module.
type memoryAllocator struct {
	mem    *mappedMemory
	image  *memImage  // the initial contents of the memory it makes, or nil
	budget *memBudget // shared with the isolate's other memories, or nil
}

// withMemoryAllocator returns ctx with a new allocator for one
// instantiation, and the allocator.
func withMemoryAllocator(ctx context.Context) (context.Context, *memoryAllocator) {
	return withImageAllocator(ctx, nil, nil)
}

// withImageAllocator is withMemoryAllocator for a memory that starts as
// img (nil: zeros) and counts against budget (nil: only its own maximum).
func withImageAllocator(ctx context.Context, img *memImage, budget *memBudget) (context.Context, *memoryAllocator) {
	a := &memoryAllocator{image: img, budget: budget}
	return experimental.WithMemoryAllocator(ctx, a), a
}

// Allocate implements experimental.MemoryAllocator. A reservation the
// kernel refuses falls back to a memory on the Go heap.
func (a *memoryAllocator) Allocate(capBytes, maxBytes uint64) experimental.LinearMemory {
	if maxBytes == 0 || maxBytes > 1<<32 || a.mem != nil {
		return a.heap()
	}
	region, err := syscall.Mmap(-1, 0, int(maxBytes), syscall.PROT_NONE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
	if err != nil {
		return a.heap()
	}
	mappedLive.Add(1)
	a.mem = &mappedMemory{region: region, image: a.image, budget: a.budget}
	return a.mem
}

// heap is the fallback memory, with the image copied in.
func (a *memoryAllocator) heap() *heapMemory {
	h := &heapMemory{budget: a.budget}
	if a.image != nil {
		h.init = a.image.data
	}
	return h
}

// Reallocate implements experimental.LinearMemory: the memory grows in
// place, its address never changes. It returns nil, failing the
// memory.grow, beyond the reservation or when the kernel refuses.
func (m *mappedMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freed || size > uint64(len(m.region)) {
		return nil
	}
	// The first allocation is the memory's initial size, which wazero
	// cannot be refused (the pool checks it against the budget before it
	// instantiates); a grow past the budget fails like any memory.grow.
	first := m.committed == 0
	if first {
		m.budget.force(int(size))
	} else if !m.budget.take(int(size) - m.committed) {
		return nil
	}
	if first && m.image != nil && size >= uint64(m.image.size) {
		// The image's pages, shared with every memory made from it until
		// written: a megabyte image costs one system call, not a copy.
		_, err := unix.MmapPtr(m.image.fd, 0, unsafe.Pointer(&m.region[0]), uintptr(m.image.size),
			unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED)
		if err == nil {
			m.committed = m.image.size
		} else if err := syscall.Mprotect(m.region[:size], syscall.PROT_READ|syscall.PROT_WRITE); err == nil {
			copy(m.region, m.image.data)
			m.committed = int(size)
		}
	}
	if n := int(size); n > m.committed {
		if err := syscall.Mprotect(m.region[m.committed:n], syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
			return nil
		}
		m.committed = n
	}
	return m.region[:size:size]
}

// Free implements experimental.LinearMemory: the pages go back to the
// kernel now and read as zeros; the range stays mapped until the module
// is unreachable.
func (m *mappedMemory) Free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freed {
		return
	}
	m.freed = true
	if m.committed > 0 {
		syscall.Madvise(m.region[:m.committed], syscall.MADV_DONTNEED)
	}
	if mappedPending.Add(1) > maxPendingMappings {
		collectPending()
	}
}

// unmap releases the reservation. It runs as the module's cleanup.
func (m *mappedMemory) unmap() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freed {
		mappedPending.Add(-1)
	}
	syscall.Munmap(m.region)
	mappedLive.Add(-1)
}

var collecting sync.Mutex

// collectPending runs a garbage collection in the background, at most one
// at a time, so that the cleanups of unreachable modules unmap their
// memories.
func collectPending() {
	if !collecting.TryLock() {
		return
	}
	go func() {
		defer collecting.Unlock()
		runtime.GC()
	}()
}

// bindMemory ties a's memory, if it made one, to mod: the reservation is
// unmapped once mod is unreachable.
func (a *memoryAllocator) bindMemory(mod api.Module) {
	m := a.mem
	if m == nil {
		return
	}
	// The module value's pointer: a cleanup may be attached to any
	// pointer into the module instance's allocation.
	p := (*byte)(reflect.ValueOf(mod).UnsafePointer())
	runtime.AddCleanup(p, (*mappedMemory).unmap, m)
}

// release undoes Allocate when the instantiation failed before a module
// existed to tie the memory to.
func (a *memoryAllocator) release() {
	if m := a.mem; m != nil {
		a.mem = nil
		m.unmap()
	}
}

// heapMemory is a linear memory on the Go heap, as wazero's own: the
// fallback when a reservation cannot be made.
type heapMemory struct {
	b      []byte
	init   []byte // an image copied in by the first allocation
	budget *memBudget
}

// Reallocate implements experimental.LinearMemory.
func (h *heapMemory) Reallocate(size uint64) []byte {
	if h.b == nil {
		h.budget.force(int(size)) // the initial size: see mappedMemory
	} else if !h.budget.take(int(size) - len(h.b)) {
		return nil
	}
	if size > uint64(cap(h.b)) {
		nb := make([]byte, size)
		copy(nb, h.b)
		if h.b == nil && h.init != nil {
			copy(nb, h.init)
			h.init = nil
		}
		h.b = nb
	}
	h.b = h.b[:size]
	return h.b
}

// Free implements experimental.LinearMemory.
func (h *heapMemory) Free() { h.b = nil }

// memoryImagesSupported says whether pools map memory images: on Linux,
// copy-on-write from a memory file.
const memoryImagesSupported = true

// memImage is the initial contents of a linear memory in a memory file:
// every memory made from it maps the file privately, sharing its pages
// until it writes them.
type memImage struct {
	fd   int
	size int    // the file's size: the image rounded up to whole pages
	data []byte // the image, for a memory on the heap
}

// newMemImage puts b in a sealed memory file.
func newMemImage(b []byte) (*memImage, error) {
	fd, err := unix.MemfdCreate("wasmserve-memory-image", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memory image: %w", err)
	}
	page := os.Getpagesize()
	size := (len(b) + page - 1) / page * page
	img := &memImage{fd: fd, size: size, data: b}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		img.close()
		return nil, fmt.Errorf("memory image: %w", err)
	}
	for off := 0; off < len(b); {
		n, err := unix.Pwrite(fd, b[off:], int64(off))
		if err != nil {
			img.close()
			return nil, fmt.Errorf("memory image: %w", err)
		}
		off += n
	}
	// Sealed: nothing can change the pages every memory shares.
	unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL)
	return img, nil
}

// close closes the file; memories mapped from it keep their pages.
func (m *memImage) close() { unix.Close(m.fd) }
