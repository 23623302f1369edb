package prefault

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestMake(t *testing.T) {
	for _, tc := range []struct {
		name string
		n, c int
	}{
		{"empty", 0, 0},
		{"small", 3, 10},
		{"large", 1 << 20, 3<<20 + 5},
		{"full", minBytes, minBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Make(tc.n, tc.c)
			if len(b) != tc.n || cap(b) != tc.c {
				t.Fatalf("len %d cap %d, want %d %d", len(b), cap(b), tc.n, tc.c)
			}
			if i := bytes.IndexFunc(b[:cap(b)], func(r rune) bool { return r != 0 }); i >= 0 {
				t.Fatalf("byte %d is not zero", i)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"below the threshold", minBytes - 1},
		{"at the threshold", minBytes},
		{"several MiB, unaligned", 3<<20 + 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := make([]byte, tc.size)
			for i := range want {
				want[i] = byte(i*7 + 1)
			}
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, want, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("read %d bytes, not the %d written", len(got), len(want))
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want one matching fs.ErrNotExist", err)
		}
	})
	t.Run("not a regular file", func(t *testing.T) {
		got, err := ReadFile("/proc/self/cmdline")
		if err != nil {
			t.Skip("no /proc:", err)
		}
		if len(got) == 0 {
			t.Fatal("read nothing from a file whose size is not known in advance")
		}
	})
}
