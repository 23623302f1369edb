package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/runtimepool"
)

func TestParseDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, in string
		want     runtimepool.Dir
		err      string
	}{
		{"host only", dir, runtimepool.Dir{Host: dir, Guest: dir}, ""},
		{"host and guest", dir + ":/data", runtimepool.Dir{Host: dir, Guest: "/data"}, ""},
		{"read-only", dir + ":/data:ro", runtimepool.Dir{Host: dir, Guest: "/data", ReadOnly: true}, ""},
		{"host read-only", dir + ":ro", runtimepool.Dir{Host: dir, Guest: dir, ReadOnly: true}, ""},
		{"too many parts", dir + ":a:b:ro", runtimepool.Dir{}, "want HOST[:GUEST][:ro]"},
		{"empty host", ":/data", runtimepool.Dir{}, "empty host directory"},
		{"missing", filepath.Join(dir, "nope"), runtimepool.Dir{}, "no such file"},
		{"not a directory", file, runtimepool.Dir{}, "is not a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseDir(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want an error with %q", err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestParseEnv(t *testing.T) {
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"pair", "A=b", true},
		{"empty value", "A=", true},
		{"value with commas and equals", "A=b,c=d", true},
		{"no equals", "A", false},
		{"empty key", "=b", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseEnv(c.in); (err == nil) != c.ok {
				t.Fatalf("ParseEnv(%q): %v", c.in, err)
			}
		})
	}
}
