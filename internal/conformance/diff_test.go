package conformance

import (
	"fmt"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	t.Parallel()
	var lines []string
	for i := 1; i <= 20; i++ {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	want := strings.Join(lines, "\n") + "\n"
	changed := strings.Replace(strings.Replace(want, "line 3\n", "line three\n", 1), "line 18\n", "", 1)
	cases := []struct {
		name, want, got, diff string
	}{
		{"two hunks", want, changed, `--- expected
+++ actual
@@ -1,6 +1,6 @@
 line 1
 line 2
-line 3
+line three
 line 4
 line 5
 line 6
@@ -15,6 +15,5 @@
 line 15
 line 16
 line 17
-line 18
 line 19
 line 20
`},
		{"no final newline", "a\nb\n", "a\nb", `--- expected
+++ actual
@@ -1,2 +1,2 @@
 a
-b
+b\ (no newline at the end)
`},
		{"added to nothing", "", "x\n", `--- expected
+++ actual
@@ -0,0 +1 @@
+x
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := unifiedDiff(c.want, c.got); got != c.diff {
				t.Errorf("got\n%s\nwant\n%s", got, c.diff)
			}
		})
	}
}

func TestLongBody(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		want, got string
		long      bool
	}{
		{"ok\n", "no\n", false},
		{"a\nb\n", "a\n", true},
		{strings.Repeat("x", 61), "y", true},
	} {
		if got := longBody(c.want, c.got); got != c.long {
			t.Errorf("longBody(%q, %q) = %v", c.want, c.got, got)
		}
	}
}
