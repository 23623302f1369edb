package binary

import (
	"fmt"
	"unicode/utf8"
)

// reader decodes the primitive values of the binary format from b[pos:end].
// Positions are offsets in the whole input, so that every error can name
// the byte it is about.
type reader struct {
	b   []byte
	pos int
	end int
	// st is the state of the whole decoding, shared by the readers of
	// nested sections.
	st *state
}

// state is what one Decode tracks across nested readers: the items left
// of MaxItems, and how deep in nested components and types it is.
type state struct {
	items int
	depth int
}

// enter goes one level deeper into nested components or types, refusing
// to go beyond MaxDepth; leave comes back.
func (r *reader) enter(what string) error {
	if r.st.depth >= MaxDepth {
		return errorf(r.pos, "%s nested more than %d deep", what, MaxDepth)
	}
	r.st.depth++
	return nil
}

// leave ends what enter began.
func (r *reader) leave() { r.st.depth-- }

// posError is a decoding error at an offset of the input; the section
// loop turns it into an *Error naming the section.
type posError struct {
	off int
	msg string
}

func (e *posError) Error() string { return e.msg }

// errorf returns a decoding error at offset off.
func errorf(off int, format string, args ...any) error {
	return &posError{off: off, msg: fmt.Sprintf(format, args...)}
}

// left returns the number of bytes left before end.
func (r *reader) left() int { return r.end - r.pos }

// byte reads one byte.
func (r *reader) byte() (byte, error) {
	if r.pos >= r.end {
		return 0, errorf(r.pos, "unexpected end")
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

// bytes returns the next n bytes, without copying.
func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(r.left()) {
		return nil, errorf(r.pos, "%d bytes wanted, %d left", n, r.left())
	}
	b := r.b[r.pos : r.pos+int(n) : r.pos+int(n)]
	r.pos += int(n)
	return b, nil
}

// leb reads an LEB128 number of at most bits bits, signed or not, and
// refuses one longer than its width allows or whose last byte sets bits
// beyond the width (an overflow).
func (r *reader) leb(bits uint, signed bool) (int64, error) {
	start := r.pos
	var v uint64
	var shift uint
	for {
		if r.pos >= r.end {
			return 0, errorf(start, "truncated integer")
		}
		c := r.b[r.pos]
		r.pos++
		v |= uint64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift > bits {
				// The last byte holds bits-(shift-7) value bits; the
				// bits above must be zero (unsigned) or copies of the
				// sign bit, the highest value bit (signed).
				used := bits - (shift - 7)
				if !signed && c>>used != 0 {
					return 0, errorf(start, "integer overflows %d bits", bits)
				}
				if rest := c >> (used - 1); signed && rest != 0 && rest != 0x7f>>(used-1) {
					return 0, errorf(start, "integer overflows %d bits", bits)
				}
			}
			if signed && shift < 64 && c&0x40 != 0 {
				v |= ^uint64(0) << shift
			}
			return int64(v), nil
		}
		if shift >= bits {
			return 0, errorf(start, "integer too long for %d bits", bits)
		}
	}
}

// u32 reads an unsigned 32-bit LEB128 number.
func (r *reader) u32() (uint32, error) {
	v, err := r.leb(32, false)
	return uint32(v), err
}

// indexOrCode reads what the binary format writes as an s33 where a type
// index and a type code may stand: a non-negative number is an index
// (code 0), a negative one of one byte is a code (0x40 to 0x7f).
func (r *reader) indexOrCode() (index uint32, code byte, err error) {
	start := r.pos
	v, err := r.leb(33, true)
	switch {
	case err != nil:
		return 0, 0, err
	case v >= 0:
		return uint32(v), 0, nil
	case r.pos-start == 1:
		return 0, r.b[start], nil
	}
	return 0, 0, errorf(start, "negative type index %d", v)
}

// name reads a length-prefixed UTF-8 string.
func (r *reader) name() (string, error) {
	start := r.pos
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", errorf(start, "name is not valid UTF-8")
	}
	return string(b), nil
}

// count reads the length of a vector whose elements take at least min
// bytes each, refusing one the bytes left cannot hold, and charges it to
// the item budget, so that nothing is allocated for elements that are not
// there.
func (r *reader) count(what string, min int) (int, error) {
	start := r.pos
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(min) > uint64(r.left()) {
		return 0, errorf(start, "%d %s cannot fit in the %d bytes left", n, what, r.left())
	}
	if int(n) > r.st.items {
		return 0, errorf(start, "more than %d items in the component", MaxItems)
	}
	r.st.items -= int(n)
	return int(n), nil
}

// flag reads a 0x00 or 0x01 byte as a boolean.
func (r *reader) flag(what string) (bool, error) {
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return false, err
	}
	switch c {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, errorf(start, "%s: invalid flag 0x%02x", what, c)
}

// expect reads one byte and refuses any other than want.
func (r *reader) expect(want byte, what string) error {
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return err
	}
	if c != want {
		return errorf(start, "%s: got 0x%02x, want 0x%02x", what, c, want)
	}
	return nil
}

// sub returns a reader of the next n bytes, and skips them.
func (r *reader) sub(n uint32) (*reader, error) {
	if uint64(n) > uint64(r.left()) {
		return nil, errorf(r.pos, "size %d exceeds the %d bytes left", n, r.left())
	}
	s := &reader{b: r.b, pos: r.pos, end: r.pos + int(n), st: r.st}
	r.pos += int(n)
	return s, nil
}
