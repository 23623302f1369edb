package httpwasm

import (
	"net/http"
	"strings"
	"testing"
	"unsafe"
)

func TestInternTable(t *testing.T) {
	long := strings.Repeat("x-long-", 30)
	cases := []struct {
		name  string
		in    string
		conv  func(string) string
		want  string
		reuse bool // the second conversion returns the first's string
	}{
		{"lower-case name", "content-type", http.CanonicalHeaderKey, "Content-Type", true},
		{"mixed-case name", "x-foo-BAR", http.CanonicalHeaderKey, "X-Foo-Bar", true},
		{"value", "text/plain; charset=utf-8", same, "text/plain; charset=utf-8", true},
		{"empty value", "", same, "", true},
		{"over the length bound", long, same, long, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var tab internTable
			b := []byte(c.in)
			first := tab.convert(b, c.conv)
			second := tab.convert(b, c.conv)
			if first != c.want || second != c.want {
				t.Fatalf("got %q then %q, want %q", first, second, c.want)
			}
			if c.want == "" {
				return
			}
			if reused := unsafe.StringData(first) == unsafe.StringData(second); reused != c.reuse {
				t.Errorf("second conversion reused the first string: %v, want %v", reused, c.reuse)
			}
			if c.reuse {
				if n := testing.AllocsPerRun(100, func() { tab.convert(b, c.conv) }); n != 0 {
					t.Errorf("a remembered conversion allocates %v times", n)
				}
			}
		})
	}
}

// TestInternTableChanges: a slot holds the bytes it was given, not a view
// of guest memory, so new bytes at the same place convert anew, and strings
// that share a slot evict each other without mixing up.
func TestInternTableChanges(t *testing.T) {
	var tab internTable
	b := []byte("text/plain")
	if got := tab.convert(b, same); got != "text/plain" {
		t.Fatalf("got %q", got)
	}
	copy(b, "TEXT")
	if got := tab.convert(b, same); got != "TEXT/plain" {
		t.Fatalf("after the guest changed its memory: got %q, want %q", got, "TEXT/plain")
	}
	// Find two strings of the same slot.
	a, other := []byte("a-0"), []byte(nil)
	for i := 1; other == nil; i++ {
		if i > 1000 {
			t.Fatal("no string found sharing a slot with a-0")
		}
		c := []byte("a-" + strings.Repeat("y", i))
		if slot(c) == slot(a) {
			other = c
		}
	}
	for i := range 3 {
		if got := tab.convert(a, same); got != string(a) {
			t.Fatalf("round %d: got %q, want %q", i, got, a)
		}
		if got := tab.convert(other, same); got != string(other) {
			t.Fatalf("round %d: got %q, want %q", i, got, other)
		}
	}
}
