package kv

import (
	"strings"
	"testing"
)

// TestCodeString: every code has the name docs/kv.md gives it, and an
// unknown one is spelled with its number.
func TestCodeString(t *testing.T) {
	t.Parallel()
	want := map[Code]string{
		CodeNotFound: "not found", CodeNoStore: "no store", CodeInvalid: "invalid", CodeTooBig: "too big",
		CodeQuota: "quota", CodeHandle: "handle", CodeNotNumber: "not a number", CodeUnavailable: "unavailable",
		CodeTimeout: "timeout", CodeNoRequest: "no request", -12: "code(-12)",
	}
	for c, s := range want {
		if got := c.String(); got != s {
			t.Errorf("Code(%d).String() = %q, want %q", int32(c), got, s)
		}
	}
}

// TestFunctions: every function is listed once, and Lookup finds it.
func TestFunctions(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, f := range Functions {
		if seen[f.Name] {
			t.Errorf("%s is listed twice", f.Name)
		}
		seen[f.Name] = true
		if _, ok := Functions.Lookup(f.Name); !ok {
			t.Errorf("Lookup(%q) found nothing", f.Name)
		}
	}
	if len(Functions) != 9 {
		t.Errorf("Functions lists %d functions, docs/kv.md 9", len(Functions))
	}
}

// TestValidKey: the key rules of docs/kv.md.
func TestValidKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, want string
	}{
		{"plain", "count", ""},
		{"longest", strings.Repeat("k", MaxKeyLen), ""},
		{"utf-8", "clé/ü", ""},
		{"empty", "", "empty key"},
		{"too long", strings.Repeat("k", MaxKeyLen+1), "key of 256 bytes, over 255"},
		{"not utf-8", "a\xffb", "key is not UTF-8"},
		{"nul", "a\x00b", "key holds a NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ValidKey([]byte(tt.key)); got != tt.want {
				t.Errorf("ValidKey(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}
