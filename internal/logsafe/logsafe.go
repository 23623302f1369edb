// Package logsafe makes untrusted bytes safe to put in a log line, whatever
// the log format: one line, no terminal escape sequences, no reordered
// text, bounded length.
//
// Unsafe and Index are the one definition of what must never reach a log
// raw; every writer of wasmserve's logs (Escape, NewHandler, the access
// log's encoders) escapes exactly that set, each in its format's syntax.
package logsafe

import (
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// Unsafe reports whether r must never be written raw into a log line:
//
//   - C0 controls but tab (newline, carriage return, ESC, ...) and DEL;
//   - C1 controls (U+0080 to U+009F), U+0085 NEXT LINE among them;
//   - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR, which split
//     lines for readers that follow Unicode's line breaking;
//   - the bidirectional embeddings, overrides and isolates (U+202A to
//     U+202E, U+2066 to U+2069), which make a terminal or viewer show the
//     rest of a line in another order than it is written.
//
// Invalid UTF-8 is unsafe too; it is a property of bytes, not of runes, so
// Index reports it and Unsafe cannot.
func Unsafe(r rune) bool {
	if r < utf8.RuneSelf {
		return r < 0x20 && r != '\t' || r == 0x7f
	}
	return r <= 0x9f || 0x2028 <= r && r <= 0x202e || 0x2066 <= r && r <= 0x2069
}

// Index returns the byte offset of the first unsafe rune (see Unsafe) or
// byte of invalid UTF-8 in s, or -1 when s may be logged as it is.
func Index(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if Unsafe(rune(c)) {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if n == 1 || Unsafe(r) { // n == 1: invalid UTF-8
			return i
		}
		i += n
	}
	return -1
}

// Escape returns b as a string of at most about max bytes (max <= 0: no
// bound) in which every unsafe rune (see Unsafe) and every byte of invalid
// UTF-8 is spelled as Go escapes it (\n, \x1b, \u0085, \u2028, \xff), so
// that a guest can neither forge a log line, nor drive the operator's
// terminal, nor reorder what it shows. Tabs are kept. A longer message is cut and ends with
// "…(N more bytes)".
func Escape(b []byte, max int) string {
	cut := 0
	if max > 0 && len(b) > max {
		cut, b = len(b)-max, b[:max]
	}
	s := unsafe.String(unsafe.SliceData(b), len(b)) // read here, never kept
	if cut == 0 && Index(s) < 0 {
		return string(b)
	}
	out := appendEscaped(make([]byte, 0, len(s)+16), s)
	if cut > 0 {
		out = append(out, "…("+strconv.Itoa(cut)+" more bytes)"...)
	}
	return string(out)
}

// String returns s with its unsafe runes and invalid UTF-8 escaped as
// Escape does, without a bound; s itself when it is safe.
func String(s string) string {
	i := Index(s)
	if i < 0 {
		return s
	}
	return string(appendEscaped(append(make([]byte, 0, len(s)+16), s[:i]...), s[i:]))
}

// appendEscaped appends s to b with its unsafe runes and invalid bytes
// spelled as Go escapes.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, '\\', 'x', hex[s[0]>>4], hex[s[0]&15])
		case Unsafe(r):
			// Unsafe runes are all unprintable, so strconv escapes
			// them: '\n', '\x1b', '\u0085', '\u2028'. The quotes go.
			start := len(b)
			b = strconv.AppendQuoteRune(b, r)
			b = append(b[:start], b[start+1:len(b)-1]...)
		default:
			b = append(b, s[:n]...)
		}
		s = s[n:]
	}
	return b
}
