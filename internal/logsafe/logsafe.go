// Package logsafe makes guest bytes safe to put in a log line, whatever the
// log format: one line, no terminal escape sequences, bounded length.
package logsafe

import (
	"strconv"
	"unicode/utf8"
)

// Escape returns b as a string of at most about max bytes (max <= 0: no
// bound) in which every control character (C0, DEL and C1, newlines and
// ESC included) and every byte of invalid UTF-8 is spelled as Go escapes
// it (\n, \x1b, \u0085), so that a guest can neither forge a log line nor
// drive the operator's terminal. Tabs are kept. A longer message is cut
// and ends with "…(N more bytes)".
func Escape(b []byte, max int) string {
	cut := 0
	if max > 0 && len(b) > max {
		cut, b = len(b)-max, b[:max]
	}
	clean := cut == 0
	for _, c := range b {
		if c < 0x20 && c != '\t' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return string(b)
	}
	out := make([]byte, 0, len(b)+16)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1:
			out = append(out, `\x`...)
			out = append(out, "0123456789abcdef"[b[0]>>4], "0123456789abcdef"[b[0]&15])
		case r == '\t' || r >= 0x20 && r < 0x7f || r > 0x9f:
			out = append(out, b[:n]...)
		default:
			q := strconv.QuoteRune(r) // '\n', '\x1b', '\u0085'
			out = append(out, q[1:len(q)-1]...)
		}
		b = b[n:]
	}
	if cut > 0 {
		out = append(out, "…("+strconv.Itoa(cut)+" more bytes)"...)
	}
	return string(out)
}
