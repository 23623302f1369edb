package prefault

import (
	"errors"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPopulate writes every page of fresh anonymous memory after populating
// part of it and counts this thread's page faults: only the pages populate
// was not given whole may fault, and a few more for the code and stack of
// the test itself. The last case, too small to populate, shows that the
// count sees the faults at all.
func TestPopulate(t *testing.T) {
	const pages, slack = 1024, 16
	page := unix.Getpagesize()
	for _, tc := range []struct {
		name     string
		from, to int // the slice given to populate, within the mapping
		min, max int64
	}{
		{"aligned", 0, pages * page, 0, slack},
		{"unaligned edges", 100, pages*page - 100, 0, 2 + slack},
		{"below the threshold", 0, minBytes - 1, pages, 2 * pages},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem, err := unix.Mmap(-1, 0, pages*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Munmap(mem)
			// Small pages whatever the kernel's huge-page mode, so
			// that a page written is a fault counted.
			if err := unix.Madvise(mem, unix.MADV_NOHUGEPAGE); err != nil {
				t.Fatal(err)
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if err := populate(mem[tc.from:tc.to]); errors.Is(err, unix.EINVAL) {
				t.Skip("the kernel has no MADV_POPULATE_WRITE (before 5.14)")
			} else if err != nil {
				t.Fatal(err)
			}
			before := threadFaults(t)
			for i := 0; i < len(mem); i += page {
				mem[i] = 1
			}
			if n := threadFaults(t) - before; n < tc.min || n > tc.max {
				t.Fatalf("%d page faults writing %d pages, want %d to %d", n, pages, tc.min, tc.max)
			}
		})
	}
}

func threadFaults(t *testing.T) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}
