package outbound

import "testing"

// TestCodeString: every code has the name docs/outbound.md gives it, and an
// unknown one is spelled with its number.
func TestCodeString(t *testing.T) {
	want := map[Code]string{
		CodeRefused: "refused", CodeLimit: "limit", CodeInvalid: "invalid", CodeHandle: "handle",
		CodeTimeout: "timeout", CodeNetwork: "network", CodeTooBig: "too big",
		CodeNoRequest: "no request", CodeCanceled: "canceled", -12: "code(-12)",
	}
	for c, s := range want {
		if got := c.String(); got != s {
			t.Errorf("Code(%d).String() = %q, want %q", int32(c), got, s)
		}
	}
}

// TestFunctions: every function is listed once, and Lookup finds it.
func TestFunctions(t *testing.T) {
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
	if len(Functions) != 8 {
		t.Errorf("Functions lists %d functions, docs/outbound.md 8", len(Functions))
	}
}
