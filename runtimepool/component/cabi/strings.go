package cabi

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// utf16Tag is the bit of a latin1+utf16 string's length that says it is
// UTF-16.
const utf16Tag = 1 << 31

// liftString reads the string at ptr whose length, in code units of the
// call's encoding, is tagged (with the UTF-16 bit for latin1+utf16).
func (l *lifter) liftString(ptr, tagged uint32) (string, error) {
	mem, err := l.memory(StringType)
	if err != nil {
		return "", err
	}
	enc := l.c.Opts.Encoding
	utf16Units := false
	var byteLen uint64
	align := uint32(2)
	switch enc {
	case UTF8:
		byteLen, align = uint64(tagged), 1
	case UTF16:
		byteLen, utf16Units = 2*uint64(tagged), true
	case Latin1UTF16:
		if tagged&utf16Tag != 0 {
			byteLen, utf16Units = 2*uint64(tagged&^utf16Tag), true
		} else {
			byteLen = uint64(tagged)
		}
	default:
		return "", fmt.Errorf("unknown string encoding %d", enc)
	}
	if byteLen > MaxStringBytes {
		return "", fmt.Errorf("%s string at %#x of %d bytes, more than %d", enc, ptr, byteLen, MaxStringBytes)
	}
	if err := checkRange(mem, stringLabels[enc], ptr, byteLen, align); err != nil {
		return "", err
	}
	if err := l.charge(byteLen); err != nil {
		return "", err
	}
	b := mem[ptr : uint64(ptr)+byteLen]
	switch {
	case enc == UTF8:
		if !utf8.Valid(b) {
			return "", fmt.Errorf("utf8 string at %#x of %d bytes is not valid UTF-8", ptr, byteLen)
		}
		return string(b), nil
	case utf16Units:
		return decodeUTF16(b, ptr)
	default:
		return decodeLatin1(b), nil
	}
}

// stringLabels name a string of each encoding in messages.
var stringLabels = [...]fmt.Stringer{UTF8: label("utf8 string"), UTF16: label("utf16 string"), Latin1UTF16: label("latin1+utf16 string")}

// decodeUTF16 decodes little-endian UTF-16, refusing unpaired surrogates.
func decodeUTF16(b []byte, ptr uint32) (string, error) {
	var sb strings.Builder
	sb.Grow(len(b) / 2)
	n := len(b) / 2
	for i := 0; i < n; i++ {
		u := rune(le.Uint16(b[2*i:]))
		switch {
		case u < 0xd800 || u > 0xdfff:
			sb.WriteRune(u)
		case u <= 0xdbff && i+1 < n:
			u2 := rune(le.Uint16(b[2*i+2:]))
			if u2 < 0xdc00 || u2 > 0xdfff {
				return "", badUTF16(ptr, i)
			}
			sb.WriteRune(utf16.DecodeRune(u, u2))
			i++
		default:
			return "", badUTF16(ptr, i)
		}
	}
	return sb.String(), nil
}

func badUTF16(ptr uint32, unit int) error {
	return fmt.Errorf("utf16 string at %#x has an unpaired surrogate at code unit %d", ptr, unit)
}

func decodeLatin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(2 * len(b))
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// storeString copies a host string into the guest, in the call's encoding,
// allocating with the guest's realloc exactly as the specification does
// for a UTF-8 source (store_string_into_range), and returns its address and
// tagged length.
func (w *lowerer) storeString(s string) (ptr, tagged uint32, err error) {
	if len(s) > MaxStringBytes {
		return 0, 0, fmt.Errorf("string of %d bytes, more than %d", len(s), MaxStringBytes)
	}
	if !utf8.ValidString(s) {
		return 0, 0, fmt.Errorf("string %.40q is not valid UTF-8", s)
	}
	if err := w.needMemory(StringType); err != nil {
		return 0, 0, err
	}
	n := uint32(len(s))
	switch w.c.Opts.Encoding {
	case UTF8:
		p, err := w.alloc(0, 0, 1, n, label("string"))
		if err != nil {
			return 0, 0, err
		}
		copy(w.mem[p:], s)
		return p, n, nil
	case UTF16:
		return w.storeUTF16(s)
	case Latin1UTF16:
		return w.storeLatin1OrUTF16(s)
	}
	return 0, 0, fmt.Errorf("unknown string encoding %d", w.c.Opts.Encoding)
}

// storeUTF16 is store_utf8_to_utf16: allocate the worst case (two bytes per
// UTF-8 byte), encode, then shrink to what the encoding took.
func (w *lowerer) storeUTF16(s string) (uint32, uint32, error) {
	worst := 2 * uint32(len(s))
	p, err := w.alloc(0, 0, 2, worst, label("string"))
	if err != nil {
		return 0, 0, err
	}
	units := putUTF16(w.mem[p:], s)
	if 2*units < worst {
		if p, err = w.alloc(p, worst, 2, 2*units, label("string")); err != nil {
			return 0, 0, err
		}
	}
	return p, units, nil
}

// putUTF16 writes s as little-endian UTF-16 into b, which has room, and
// returns the number of code units written.
func putUTF16(b []byte, s string) uint32 {
	var i uint32
	for _, r := range s {
		if r < 0x10000 {
			le.PutUint16(b[2*i:], uint16(r))
			i++
			continue
		}
		r1, r2 := utf16.EncodeRune(r)
		le.PutUint16(b[2*i:], uint16(r1))
		le.PutUint16(b[2*i+2:], uint16(r2))
		i += 2
	}
	return i
}

// storeLatin1OrUTF16 is store_string_to_latin1_or_utf16: allocate one byte
// per UTF-8 byte and write Latin-1 while the code points fit; at the first
// that does not, grow to the UTF-16 worst case, widen what was written and
// go on in UTF-16. Either way shrink to what was used.
func (w *lowerer) storeLatin1OrUTF16(s string) (uint32, uint32, error) {
	n := uint32(len(s))
	p, err := w.alloc(0, 0, 2, n, label("string"))
	if err != nil {
		return 0, 0, err
	}
	var written uint32
	for i, r := range s {
		if r < 0x100 {
			w.mem[p+written] = byte(r)
			written++
			continue
		}
		worst := 2 * n
		if p, err = w.alloc(p, n, 2, worst, label("string")); err != nil {
			return 0, 0, err
		}
		m := w.mem
		for j := int64(written) - 1; j >= 0; j-- {
			m[p+2*uint32(j)] = m[p+uint32(j)]
			m[p+2*uint32(j)+1] = 0
		}
		units := written + putUTF16(m[p+2*written:], s[i:])
		if worst > 2*units {
			if p, err = w.alloc(p, worst, 2, 2*units, label("string")); err != nil {
				return 0, 0, err
			}
		}
		return p, units | utf16Tag, nil
	}
	if written < n {
		if p, err = w.alloc(p, n, 2, written, label("string")); err != nil {
			return 0, 0, err
		}
	}
	return p, written, nil
}
