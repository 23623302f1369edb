package suggest

import "testing"

func TestNearest(t *testing.T) {
	t.Parallel()
	names := []string{"status", "headers", "headers_match", "body", "body_contains", "isolates", "check"}
	for _, c := range []struct{ in, want string }{
		{"stauts", "status"},
		{"isolate", "isolates"},
		{"chek", "check"},
		{"hedaers", "headers"},
		{"body_contain", "body_contains"},
		{"Status", "status"},
		{"xyz", ""},
		{"colour", ""},
	} {
		if got := Nearest(c.in, names); got != c.want {
			t.Errorf("Nearest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"stauts", "status", 2}, {"same", "same", 0}} {
		if got := EditDistance(c.a, c.b); got != c.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
