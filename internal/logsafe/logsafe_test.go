package logsafe

import (
	"strconv"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "hello world", 0, "hello world"},
		{"tab kept", "a\tb", 0, "a\tb"},
		{"newline forges no line", "hi\n2026 ERRO guest failed request_id=forged", 0, `hi\n2026 ERRO guest failed request_id=forged`},
		{"carriage return", "a\rb", 0, `a\rb`},
		{"ESC sequence", "\x1b[31mred\x1b[0m", 0, `\x1b[31mred\x1b[0m`},
		{"DEL and NUL", "a\x7fb\x00", 0, `a\x7fb\x00`},
		{"C1 control", "a\u0085b", 0, `a\u0085b`},
		{"last C1 control", "a\u009fb", 0, `a\u009fb`},
		{"line separator forges no line", "hi\u2028level=error msg=forged", 0, `hi\u2028level=error msg=forged`},
		{"paragraph separator forges no line", "hi\u2029level=error msg=forged", 0, `hi\u2029level=error msg=forged`},
		{"right-to-left override", "user \u202eexe.txt", 0, `user \u202eexe.txt`},
		{"every embedding and override", "\u202a\u202b\u202c\u202d\u202e", 0, `\u202a\u202b\u202c\u202d\u202e`},
		{"every isolate", "\u2066\u2067\u2068\u2069", 0, `\u2066\u2067\u2068\u2069`},
		{"invalid UTF-8", "a\xffb", 0, `a\xffb`},
		{"encoded surrogate is invalid", "a\xed\xa0\x80b", 0, `a\xed\xa0\x80b`},
		{"truncated rune is invalid", "a\xe2\x80", 0, `a\xe2\x80`},
		{"UTF-8 kept", "héllo → ✓", 0, "héllo → ✓"},
		{"no-break space kept", "a\u00a0b", 0, "a\u00a0b"},
		{"bidi marks kept", "\u200eשלום\u200f", 0, "\u200eשלום\u200f"},
		{"emoji joiner kept", "👩\u200d💻", 0, "👩\u200d💻"},
		{"neighbours of the bidi controls kept", "\u2027\u202f\u2065\u206a", 0, "\u2027\u202f\u2065\u206a"},
		{"cut", "abcdefghij", 4, "abcd…(6 more bytes)"},
		{"cut and escaped", "a\nbcdefghij", 3, `a\nb…(8 more bytes)`},
		{"cut inside a separator", "ab\u2028cd", 3, `ab\xe2…(4 more bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Escape([]byte(tt.in), tt.max); got != tt.want {
				t.Errorf("Escape(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if tt.max == 0 {
				if got := String(tt.in); got != tt.want {
					t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
				}
			}
		})
	}
}

func TestIndex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     int
	}{
		{"empty", "", -1},
		{"plain", "GET /index.html", -1},
		{"tab", "a\tb", -1},
		{"UTF-8", "/ünïcode/✓", -1},
		{"newline", "ab\ncd", 2},
		{"DEL", "\x7f", 0},
		{"next line", "/é\u0085", 3},
		{"line separator", "/a\u2028", 2},
		{"paragraph separator", "/a\u2029", 2},
		{"right-to-left override", "/\u202e", 1},
		{"first strong isolate", "/\u2068", 1},
		{"invalid byte", "/a\xff", 2},
		{"first of two", "\u2029\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Index(tt.in); got != tt.want {
				t.Errorf("Index(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// TestUnsafeRunesEscapeToASCII: every rune Unsafe names is one strconv
// escapes (Escape relies on it) and Escape spells it in printable ASCII
// that unquotes back to it; every other valid rune passes unchanged.
func TestUnsafeRunesEscapeToASCII(t *testing.T) {
	t.Parallel()
	unsafe := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		in := string(r)
		got := String(in)
		if !Unsafe(r) {
			if got != in {
				t.Fatalf("safe rune %U escaped as %q", r, got)
			}
			continue
		}
		unsafe++
		if strconv.IsPrint(r) {
			t.Fatalf("unsafe rune %U is printable to strconv", r)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x20 || got[i] >= 0x7f {
				t.Fatalf("%U escaped as %q, not printable ASCII", r, got)
			}
		}
		if back, err := strconv.Unquote(`"` + got + `"`); err != nil || back != in {
			t.Fatalf("%U escaped as %q, which unquotes to %q, %v", r, got, back, err)
		}
	}
	// C0 but tab (31), DEL (1), C1 (32), U+2028 to U+202E (7), U+2066 to
	// U+2069 (4).
	if want := 31 + 1 + 32 + 7 + 4; unsafe != want {
		t.Errorf("%d unsafe runes, want %d", unsafe, want)
	}
}

// BenchmarkIndex is Index over a typical request path, all ASCII, and
// over one with non-ASCII letters.
func BenchmarkIndex(b *testing.B) {
	for _, p := range []string{"/api/v1/users/12345/profile?fields=name,email", "/wiki/Zürich_Hauptbahnhof_—_Übersicht"} {
		b.Run(strconv.Itoa(len(p)), func(b *testing.B) {
			for range b.N {
				if Index(p) >= 0 {
					b.Fatal("unsafe")
				}
			}
		})
	}
}
