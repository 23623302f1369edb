package wasmprep

import (
	"fmt"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// CheckMemory refuses, with both numbers, a module whose memory does not
// fit limitPages (0 fits any): a minimum above it, or a declared maximum
// above it (wazero refuses both while compiling, with a terser message). It
// reads the memory section of the binary itself, because wazero's check
// runs before a compiled module could be inspected. A section it cannot
// read is left to the compiler to reject.
func (m *Module) CheckMemory(limitPages uint32) error {
	if limitPages == 0 {
		return nil
	}
	mems, err := m.memoryLimits()
	if err != nil {
		return nil
	}
	for _, m := range mems {
		if m.min > limitPages {
			return fmt.Errorf("module needs %s of memory at start (%d pages), above the memory limit of %s (%d pages)",
				pageBytes(m.min), m.min, pageBytes(limitPages), limitPages)
		}
		if m.hasMax && m.max > limitPages {
			return fmt.Errorf("module declares a maximum memory of %s (%d pages), above the memory limit of %s (%d pages); raise the limit or lower the module's maximum",
				pageBytes(m.max), m.max, pageBytes(limitPages), limitPages)
		}
	}
	return nil
}

// pageBytes spells a number of 64 KiB pages in MiB, or KiB below one MiB.
func pageBytes(pages uint32) string {
	b := uint64(pages) << 16
	if b%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", b>>20)
	}
	return fmt.Sprintf("%d KiB", b>>10)
}

// memLimits are one memory's limits in pages.
type memLimits struct {
	min, max uint32
	hasMax   bool
}

// memoryLimits returns the limits of the memories the module defines (not
// those it imports), from its memory section.
func (m *Module) memoryLimits() ([]memLimits, error) {
	s, ok := m.section(wasmbin.SecMemory)
	if !ok {
		return nil, nil
	}
	r := wasmbin.Reader{B: s.Body}
	count, err := r.U32()
	if err != nil {
		return nil, err
	}
	if uint64(count) > uint64(r.Len()) {
		return nil, wasmbin.ErrEOF
	}
	mems := make([]memLimits, 0, count)
	for range count {
		l, err := r.Limits()
		if err != nil {
			return nil, err
		}
		mems = append(mems, memLimits{min: uint32(min(l.Min, 1<<32-1)), max: uint32(min(l.Max, 1<<32-1)), hasMax: l.HasMax})
	}
	return mems, nil
}
