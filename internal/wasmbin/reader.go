// Package wasmbin reads and writes the primitive values of the WebAssembly
// binary format (core spec §5): LEB128 numbers, names, limits, memory
// arguments, instruction immediates. It is the project's one binary reader:
// the structural pre-check ([Check]) and the analyses and rewrites of
// internal/wasmprep all decode through it.
package wasmbin

import (
	"errors"
	"fmt"
)

// ErrEOF is returned by a [Reader] asked to read past the end of its bytes.
var ErrEOF = errors.New("unexpected end")

// Reader decodes the binary format's primitive values from B, starting at
// Pos. The zero value reads nothing. A failed read leaves Pos where the
// value started or after what it consumed; callers stop at the first error.
type Reader struct {
	// B is the input.
	B []byte
	// Pos is the offset of the next byte to read.
	Pos int
}

// Len returns the number of bytes left to read.
func (r *Reader) Len() int { return len(r.B) - r.Pos }

// Byte reads one byte.
func (r *Reader) Byte() (byte, error) {
	if r.Pos >= len(r.B) {
		return 0, ErrEOF
	}
	c := r.B[r.Pos]
	r.Pos++
	return c, nil
}

// Skip skips n bytes.
func (r *Reader) Skip(n int) error {
	if n < 0 || len(r.B)-r.Pos < n {
		return ErrEOF
	}
	r.Pos += n
	return nil
}

// Bytes returns the next n bytes, without copying.
func (r *Reader) Bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(len(r.B)-r.Pos) {
		return nil, ErrEOF
	}
	b := r.B[r.Pos : r.Pos+int(n)]
	r.Pos += int(n)
	return b, nil
}

// U32 reads an unsigned LEB128 number of at most 32 bits.
func (r *Reader) U32() (uint32, error) {
	v, err := r.LEB(32, false)
	return uint32(v), err
}

// ErrTooLong is returned for an LEB128 number with more bytes than its
// width allows (5 for 32 bits, 10 for 64).
var ErrTooLong = errors.New("integer too long")

// LEB reads an LEB128 number of at most bits bits, signed or not. It checks
// the length, not the unused bits of the last byte (wazero validates those).
func (r *Reader) LEB(bits uint, signed bool) (int64, error) {
	var v uint64
	var shift uint
	for {
		c, err := r.Byte()
		if err != nil {
			return 0, err
		}
		if shift >= bits {
			return 0, ErrTooLong
		}
		v |= uint64(c&0x7F) << shift
		shift += 7
		if c&0x80 == 0 {
			if signed && shift < 64 && c&0x40 != 0 {
				v |= ^uint64(0) << shift
			}
			return int64(v), nil
		}
	}
}

// Name reads a name: a length and that many bytes.
func (r *Reader) Name() (string, error) {
	n, err := r.U32()
	if err != nil {
		return "", err
	}
	b, err := r.Bytes(n)
	return string(b), err
}

// Limits is a table's or a memory's limits, in elements or pages.
type Limits struct {
	// Flags is the limits' flag byte: bit 0 a maximum follows, bit 1
	// shared (threads), bit 2 64-bit (memory64).
	Flags byte
	// Min is the minimum.
	Min uint64
	// Max is the maximum, when HasMax.
	Max uint64
	// HasMax reports that the limits declare a maximum.
	HasMax bool
}

// Limits reads table or memory limits: flags, minimum, maybe maximum.
func (r *Reader) Limits() (Limits, error) {
	var l Limits
	flags, err := r.Byte()
	if err != nil {
		return l, err
	}
	if flags > 0x07 {
		return l, fmt.Errorf("unknown limits flags 0x%02x", flags)
	}
	l.Flags = flags
	v, err := r.LEB(64, false)
	if err != nil {
		return l, err
	}
	l.Min = uint64(v)
	if flags&1 != 0 {
		if v, err = r.LEB(64, false); err != nil {
			return l, err
		}
		l.Max, l.HasMax = uint64(v), true
	}
	return l, nil
}

// MemArg skips a memory argument: alignment (bit 6 set: a memory index
// follows) and offset.
func (r *Reader) MemArg() error {
	align, err := r.U32()
	if err != nil {
		return err
	}
	if align&0x40 != 0 {
		if _, err := r.U32(); err != nil {
			return err
		}
	}
	_, err = r.LEB(64, false)
	return err
}

// AppendS32 appends v as signed LEB128.
func AppendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// AppendU32 appends v as unsigned LEB128.
func AppendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
