package bench

import (
	"context"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// BenchmarkReloadGo reloads the Go hello in place (what SIGHUP does) and
// serves one request on the new module: the time from a reload's start to
// its first answer. The compilation cache on disk is warm.
func BenchmarkReloadGo(b *testing.B) {
	wasm := testguest.Read(b, "hello")
	cfg := defaults
	h := newHandler(b, wasm, cfg)
	w := &sink{h: make(map[string][]string)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := h.Reload(context.Background(), wasm); err != nil {
			b.Fatal(err)
		}
		w.reset()
		h.ServeHTTP(w, hello())
		if w.status != 200 {
			b.Fatalf("status %d after reload", w.status)
		}
	}
}
