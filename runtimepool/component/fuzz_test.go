package component

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzInspect decodes and links (without compiling) arbitrary bytes as a
// component: whatever the input, an error or a description, never a panic
// or a runaway. Seeds: the fixtures of this package and of the decoder.
func FuzzInspect(f *testing.F) {
	for _, pattern := range []string{"testdata/*.wasm", "binary/testdata/*.wasm"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	h := &Host{}
	if err := h.Define((&testHost{}).instance("0.1.0", "")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		Inspect(b, nil)
		Inspect(b, h)
	})
}
