package bench

import (
	"os"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// The same hello in three languages, one isolate, no limits: what the
// language and its runtime add to a request beside the ABI. BENCHMARKS.md
// compares them with HelloNative from the same run:
//
//	go test -run '^$' -bench 'Hello(Native|C|WAT|Go)$' -benchmem -benchtime 50000x ./bench/
//
// BenchmarkHelloWAT and BenchmarkHelloGo are in abi_test.go.
func BenchmarkHelloC(b *testing.B) {
	wasm, err := os.ReadFile(testguest.Path("guest-examples/hello-c/hello.wasm"))
	if err != nil {
		b.Fatal(err)
	}
	serveLoop(b, newHandler(b, wasm, bare), hello(), nil, helloLen)
}
