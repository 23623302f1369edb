package bench

import (
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/internal/wasmprep"
)

// BenchmarkCallFloor is what wazero itself costs a WAT hello request: one
// call of handle_request making the hello guest's five host calls, with
// the same signatures, to host functions that do nothing. HelloWAT minus
// this is wasmserve's own host side; this minus nothing is the floor no
// host code can go below. "interruptible" runs the module rewritten with
// the interrupt checks, as the serve defaults do.
func BenchmarkCallFloor(b *testing.B) {
	wasm, err := os.ReadFile("testdata/floor.wasm")
	if err != nil {
		b.Fatal(err)
	}
	rewritten, err := wasmprep.RewriteInterruptible(wasm)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		wasm []byte
	}{{"plain", wasm}, {"interruptible", rewritten}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			i32 := api.ValueTypeI32
			nop := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
			two := api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) { stack[0] = 6 })
			_, err := rt.NewHostModuleBuilder("floor").
				NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32, i32, i32}, nil).Export("five").
				NewFunctionBuilder().WithGoModuleFunction(two, []api.ValueType{i32, i32}, []api.ValueType{i32}).Export("two").
				NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32}, nil).Export("three").
				Instantiate(ctx)
			if err != nil {
				b.Fatal(err)
			}
			mod, err := rt.InstantiateWithConfig(ctx, c.wasm, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				b.Fatal(err)
			}
			hr := mod.ExportedFunction("handle_request")
			var stack [1]uint64
			for range warmup {
				if err := hr.CallWithStack(ctx, stack[:]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				stack[0] = 0
				if err := hr.CallWithStack(ctx, stack[:]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
