package runtimepool

import (
	"context"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
	"github.com/wasmserve/wasmserve/internal/hostmodule"
	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/internal/wasmprep"
)

// BenchmarkInterruption measures what interruptibility costs per call (nop)
// and per loop iteration (spin): "off" is none, "on" wazero's
// close-on-context-done with a context that has a deadline, "global" the
// rewritten module's interrupt global (the context is never done).
// RATIONALE.md records the numbers.
func BenchmarkInterruption(b *testing.B) {
	const iterations = 1 << 20
	for _, name := range []string{"off", "on", "global"} {
		on := name == "on"
		p := newPool(b, Config[any]{Isolates: 1, CloseOnContextDone: on, Interruptible: name == "global"})
		iso, err := p.Acquire(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		ctx := func() (context.Context, context.CancelFunc) {
			if !on {
				return context.Background(), func() {}
			}
			return context.WithTimeout(context.Background(), time.Hour)
		}
		nop, spin := iso.Module.ExportedFunction("nop"), iso.Module.ExportedFunction("spin")
		b.Run("call/"+name, func(b *testing.B) {
			for b.Loop() {
				c, cancel := ctx()
				if _, err := nop.Call(c); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
		})
		b.Run("loop/"+name, func(b *testing.B) {
			for b.Loop() {
				c, cancel := ctx()
				if _, err := spin.Call(c, iterations); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/iterations, "ns/iteration")
		})
		p.Release(iso)
	}
}

// BenchmarkStart measures a start of the server short of compiling: the
// module's shape read as the host reads it, then a pool of one isolate,
// interruptible, filled from a warm in-memory compilation cache, so that
// what the package does with the module's bytes shows rather than wazero's
// compiler. "rewritecache" gives the pool a CacheDir too, where the rewrite
// is found from the second start on.
func BenchmarkStart(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"spin", "hello"} {
		var wasm []byte
		if name == "spin" {
			wasm = readWasm(b, "spin.wasm")
		} else {
			wasm = testguest.Read(b, name)
		}
		cache := wazero.NewCompilationCache()
		defer cache.Close(ctx)
		for _, dir := range []string{"", b.TempDir()} {
			sub := name
			if dir != "" {
				sub += "/rewritecache"
			}
			b.Run(sub, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					mod, err := wasmprep.Parse(wasm)
					if err != nil {
						b.Fatal(err)
					}
					mod.Shape()
					p, err := NewParsed(ctx, mod, Config[any]{Isolates: 1, Interruptible: true, Cache: cache, CacheDir: dir,
						Installers: []Installer{stubHandler}})
					if err != nil {
						b.Fatal(err)
					}
					p.Close(ctx)
				}
			})
		}
	}
}

// stubHandler defines http_handler with functions that do nothing, so that
// a guest's imports link: a start calls none of them.
func stubHandler(ctx context.Context, r wazero.Runtime) error {
	impl := map[string]api.GoModuleFunc{}
	for _, f := range abi.Functions {
		impl[f.Name] = func(context.Context, api.Module, []uint64) {}
	}
	return hostmodule.Define(ctx, r, abi.ModuleName, abi.Functions, impl)
}

// BenchmarkPrepare measures only what a start does with the module's bytes
// before wazero sees them: the shape, the pre-check, the table limits, the
// interruptible rewrite and the memory check, from one parse as the host
// makes it.
func BenchmarkPrepare(b *testing.B) {
	wasm := testguest.Read(b, "hello")
	for _, name := range []string{"parsed"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(wasm)))
			b.ReportAllocs()
			for b.Loop() {
				var mod *wasmprep.Module
				var err error
				if mod, err = wasmprep.Parse(wasm); err == nil {
					mod.Shape()
				}
				if err == nil {
					mod, err = mod.LimitTables()
				}
				if err == nil {
					_, _, err = mod.Rewrite(true)
				}
				if err == nil {
					err = mod.CheckMemory(1 << 16)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
