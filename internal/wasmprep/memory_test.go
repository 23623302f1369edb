package wasmprep

import "testing"

// FuzzMemoryLimits: the memory-section reader never panics on a module
// Parse accepts.
func FuzzMemoryLimits(f *testing.F) {
	for _, name := range []string{"spin.wasm", "bigmem.wasm", "maxmem.wasm"} {
		f.Add(readWasm(f, name))
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x05\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		m.memoryLimits()
		m.CheckMemory(1)
	})
}
