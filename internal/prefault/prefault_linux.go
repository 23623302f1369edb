package prefault

import (
	"os"
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
