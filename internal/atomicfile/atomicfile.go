// Package atomicfile replaces files so that a reader sees the old file or
// the whole new one, never a part.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with the concatenation of chunks and mode perm. It
// writes a temporary file in path's directory, created readable by the
// owner only (so a key is never readable by others, even briefly), sets
// perm and renames it over path; on error it removes the temporary file.
// It does not sync: a crash may leave the old file, or an empty or partial
// new one on file systems that reorder the rename before the data.
func Write(path string, perm os.FileMode, chunks ...[]byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	for _, c := range chunks {
		if err == nil {
			_, err = tmp.Write(c)
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && perm != 0o600 {
		err = os.Chmod(tmp.Name(), perm)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
