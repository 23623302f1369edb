package host

import (
	"context"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/abi"
)

// Inspect compiles wasm and reports how it fits the handler ABI, for
// `wasmserve check`. When the static look finds no problem it also starts
// one isolate, so that a start function that traps or exits is reported
// too. The error is set only when wasm does not compile.
func Inspect(ctx context.Context, wasm []byte) (*abi.Report, error) {
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("compiling: %w", err)
	}
	rep := abi.Inspect(cm)
	if !rep.OK() {
		return rep, nil
	}
	h, err := NewHandler(ctx, wasm, HandlerConfig{Isolates: 1})
	if err != nil {
		msg := err.Error()
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		rep.Problems = append(rep.Problems, "starting an isolate: "+msg)
		return rep, nil
	}
	h.Close(ctx)
	return rep, nil
}
