package wasmbin

import (
	"strings"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		b       string
		want    Format
		wantErr string
	}{
		{"core module", "\x00asm\x01\x00\x00\x00", FormatCore, ""},
		{"core module with sections", "\x00asm\x01\x00\x00\x00\x00\x01\x00", FormatCore, ""},
		{"component", "\x00asm\x0d\x00\x01\x00", FormatComponent, ""},
		{"component of another version", "\x00asm\x0c\x00\x01\x00", 0, "a component of unsupported version 0xc"},
		{"core version 2", "\x00asm\x02\x00\x00\x00", 0, "unsupported binary version 02 00 00 00"},
		{"no magic", "\x7fELF\x02\x01\x01\x00", 0, "not a WebAssembly binary"},
		{"short", "\x00asm", 0, "not a WebAssembly binary"},
		{"empty", "", 0, "not a WebAssembly binary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DetectFormat([]byte(c.b))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}
