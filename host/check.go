package host

import (
	"context"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/internal/wasmbin"
	"github.com/wasmserve/wasmserve/internal/wasmprep"
	"github.com/wasmserve/wasmserve/runtimepool/component/binary"
)

// CheckModule is the structural pre-check every module passes before
// wazero reads it: at start, on every reload (both through [NewHandler]), in
// [Inspect], and in any command that loads a module. Its error, a
// malformed module, is one line naming the section, the offset and the
// count or length that was wrong.
func CheckModule(wasm []byte) error {
	comp, err := isComponent(wasm)
	if err != nil {
		return err
	}
	if comp {
		_, err := binary.Decode(wasm)
		return err
	}
	return wasmbin.Check(wasm)
}

// Inspect compiles wasm and reports how it fits the executor cfg.ABI
// chooses, for `wasmserve check`; the report's ABI names the executor and
// why it was chosen. When the static look finds no problem it also starts
// one isolate with cfg (its pool size set to 1), so that a start function
// that traps or exits is reported too. The error is set only when wasm is
// malformed (see [CheckModule]), does not compile or no executor can be
// chosen.
func Inspect(ctx context.Context, wasm []byte, cfg HandlerConfig) (*executor.Report, error) {
	// The format first, then the structural check (CheckModule), whose
	// error is returned as it is.
	if comp, err := isComponent(wasm); err != nil {
		return nil, err
	} else if comp {
		return inspectComponent(ctx, wasm, cfg)
	}
	mod, err := wasmprep.Parse(wasm)
	if err != nil {
		return nil, err
	}
	shape := mod.Shape()
	kinds := cfg.Executors
	if kinds == nil {
		kinds = DefaultExecutors()
	}
	kind, why, err := pickExecutor(kinds, cfg.ABI, shape)
	if err != nil {
		return nil, err
	}
	rc := wazero.NewRuntimeConfig()
	if cfg.CacheDir != "" {
		// The isolate started below compiles through the same cache:
		// a Go module is compiled once, not twice.
		if c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir); err == nil {
			defer c.Close(ctx)
			rc = rc.WithCompilationCache(c)
		}
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("compiling: %w", err)
	}
	rep := kind.Inspect(cm, importCheckers(cfg.Extensions))
	rep.ABI = kind.Title + " (" + why + ")"
	if !rep.OK() {
		return rep, nil
	}
	cfg.Isolates = 1
	h, err := NewHandler(ctx, wasm, cfg)
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
