package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	cases := []struct {
		name   string
		old    string // "" for no file before
		chunks []string
		perm   os.FileMode
	}{
		{"new file, owner only", "", []string{"12345\n"}, 0o600},
		{"replaces, readable by all", "old contents", []string{"new"}, 0o644},
		{"chunks concatenated", "", []string{"a", "", "bc"}, 0o600},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if c.old != "" {
				if err := os.WriteFile(path, []byte(c.old), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var chunks [][]byte
			want := ""
			for _, s := range c.chunks {
				chunks = append(chunks, []byte(s))
				want += s
			}
			if err := Write(path, c.perm, chunks...); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				t.Fatalf("file holds %q (%v), want %q", got, err, want)
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != c.perm {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), c.perm)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("%d entries in the directory, want the file alone", len(entries))
			}
		})
	}
}

// TestWriteFailureLeavesNothing: a directory where the file should be makes
// the rename fail; the old entry stays and no temporary file is left.
func TestWriteFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.MkdirAll(filepath.Join(path, "child"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, 0o600, []byte("x")); err == nil {
		t.Fatal("no error replacing a non-empty directory")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || !entries[0].IsDir() {
		t.Errorf("directory holds %v, want the directory alone", entries)
	}
}
