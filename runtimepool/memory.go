package runtimepool

import (
	"errors"
	"fmt"
)

// checkMemory refuses, with both numbers, a module whose memory does not fit
// limitPages: a minimum above it, or a declared maximum above it (wazero
// refuses both while compiling, with a terser message). It reads the memory
// section of the binary itself, because wazero's check runs before a
// compiled module could be inspected. A binary it cannot read is left to the
// compiler to reject.
func checkMemory(wasm []byte, limitPages uint32) error {
	if limitPages == 0 {
		return nil
	}
	mems, err := memoryLimits(wasm)
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

var errMalformed = errors.New("malformed module")

// memoryLimits returns the limits of the memories the module defines (not
// those it imports), from its memory section.
func memoryLimits(wasm []byte) ([]memLimits, error) {
	if len(wasm) < 8 {
		return nil, errMalformed
	}
	r := wasm[8:] // magic and version
	for len(r) > 0 {
		id := r[0]
		size, n := uleb(r[1:])
		if n == 0 || uint64(len(r)-1-n) < size {
			return nil, errMalformed
		}
		body := r[1+n : 1+n+int(size)]
		r = r[1+n+int(size):]
		if id != 5 { // memory section
			continue
		}
		count, n := uleb(body)
		if n == 0 {
			return nil, errMalformed
		}
		body = body[n:]
		var mems []memLimits
		for range count {
			if len(body) == 0 {
				return nil, errMalformed
			}
			flags := body[0]
			min, n := uleb(body[1:])
			if n == 0 {
				return nil, errMalformed
			}
			body = body[1+n:]
			m := memLimits{min: uint32(min)}
			if flags&1 != 0 {
				max, n := uleb(body)
				if n == 0 {
					return nil, errMalformed
				}
				body = body[n:]
				m.max, m.hasMax = uint32(max), true
			}
			mems = append(mems, m)
		}
		return mems, nil
	}
	return nil, nil
}

// uleb decodes an unsigned LEB128 number of at most 64 bits; n is 0 when b
// does not hold one.
func uleb(b []byte) (v uint64, n int) {
	for i, c := range b {
		if i == 10 {
			return 0, 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}
