package component

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// BenchmarkInstantiate instantiates a component and reports, beside the
// whole, the part spent outside wazero's instantiation of its core
// modules: the linking the component adds (link-ns/op). The fixture's
// component, and the one WASMSERVE_COMPONENT names if set (a
// componentize-js hello world, say).
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	cases := []struct{ name, path string }{{"fixture", "testdata/host.wasm"}}
	if p := os.Getenv("WASMSERVE_COMPONENT"); p != "" {
		cases = append(cases, struct{ name, path string }{"real", p})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			bin, err := os.ReadFile(c.path)
			if err != nil {
				b.Fatal(err)
			}
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			comp, err := Load(ctx, rt, bin, &Host{TrapMissing: true})
			if err != nil {
				b.Fatal(err)
			}
			defer comp.Close(ctx)
			var inWazero time.Duration
			var began time.Time
			opts := InstantiateOptions{
				Before: func(ctx context.Context, _ int) context.Context { began = time.Now(); return ctx },
				After:  func(int, api.Module, error) { inWazero += time.Since(began) },
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				inst, err := comp.InstantiateWith(ctx, opts)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				inst.Close(ctx)
				b.StartTimer()
			}
			b.ReportMetric(float64(inWazero.Nanoseconds())/float64(b.N), "core-ns/op")
			b.ReportMetric(float64((b.Elapsed()-inWazero).Nanoseconds())/float64(b.N), "link-ns/op")
			b.ReportMetric(float64(comp.Steps()), "core-instances")
		})
	}
}
