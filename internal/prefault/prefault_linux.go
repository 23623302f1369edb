package prefault

import (
	"bytes"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// populate asks the kernel to map the whole pages inside b, writable, now.
// Kernels before 5.14 refuse with EINVAL; the pages are then mapped as they
// are first written, as without it.
func populate(b []byte) error {
	if len(b) < minBytes {
		return nil
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	page := uintptr(os.Getpagesize())
	first := (start+page-1)&^(page-1) - start
	last := (start+uintptr(len(b)))&^(page-1) - start
	if last <= first {
		return nil
	}
	return unix.Madvise(b[first:last], unix.MADV_POPULATE_WRITE)
}

// thpOnRequest reports whether the kernel gives transparent huge pages only
// to memory that asks (the mode "madvise"). With "always" there is no need
// to ask; with "never" no use.
var thpOnRequest = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && bytes.Contains(b, []byte("[madvise]"))
})

// hugePages asks for transparent huge pages in the whole 2 MiB pages of
// [addr, addr+n), or stops asking, when the kernel gives them on request.
// The Go heap never unmaps its address space, so the range stays valid
// after the slice it was is freed.
func hugePages(addr uintptr, n int, on bool) {
	if !thpOnRequest() {
		return
	}
	const huge = 2 << 20
	first := (addr + huge - 1) &^ (huge - 1)
	last := (addr + uintptr(n)) &^ (huge - 1)
	if last <= first {
		return
	}
	advice := uintptr(unix.MADV_NOHUGEPAGE)
	if on {
		advice = unix.MADV_HUGEPAGE
	}
	unix.Syscall(unix.SYS_MADVISE, first, last-first, advice)
}
