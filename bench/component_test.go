package bench

import (
	"os"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// BenchmarkComponentJS serves the JavaScript router component
// (guest-examples/js-router, componentize-js) in process: a fresh instance
// per request from a pool of two made ahead, so each request pays an
// instantiation in the background (counted in cpu-ns/op) beside its own
// work. Skipped without componentize-js; compare with HelloNative:
//
//	go test -run '^$' -bench 'HelloNative$|ComponentJS$' -benchtime 2000x ./bench/
func BenchmarkComponentJS(b *testing.B) {
	wasm, err := os.ReadFile(testguest.BuildComponent(b, "guest-examples/js-router"))
	if err != nil {
		b.Fatal(err)
	}
	cfg := bare
	cfg.Isolates = 2
	serveLoopWarm(b, newHandler(b, wasm, cfg), hello(), nil, len("path: /bench\nquery: \n"), 100)
}
