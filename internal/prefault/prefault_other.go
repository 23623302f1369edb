//go:build !linux

package prefault

// populate does nothing: only Linux maps pages in advance here.
func populate([]byte) error { return nil }

// hugePages does nothing: only Linux is asked for huge pages here.
func hugePages(uintptr, int, bool) {}
