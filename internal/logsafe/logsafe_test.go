package logsafe

import "testing"

func TestEscape(t *testing.T) {
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
		{"invalid UTF-8", "a\xffb", 0, `a\xffb`},
		{"UTF-8 kept", "héllo → ✓", 0, "héllo → ✓"},
		{"cut", "abcdefghij", 4, "abcd…(6 more bytes)"},
		{"cut and escaped", "a\nbcdefghij", 3, `a\nb…(8 more bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Escape([]byte(tt.in), tt.max); got != tt.want {
				t.Errorf("Escape(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}
