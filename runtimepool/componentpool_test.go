package runtimepool

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/runtimepool/component"
)

func newImagePool(t testing.TB, isolates int) *Pool[struct{}] {
	t.Helper()
	bin, err := os.ReadFile("testdata/image.wasm")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := NewComponent(ctx, bin, &component.Host{}, Config[struct{}]{Isolates: isolates})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(ctx) })
	return p
}

func callIso(t *testing.T, iso *Isolate[struct{}], name string, args ...any) any {
	t.Helper()
	f, err := iso.pool.Component().Func(name)
	if err != nil {
		t.Fatal(err)
	}
	out, err := iso.Component.Call(context.Background(), f, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(out) == 0 {
		return nil
	}
	return out[0]
}

// TestComponentMemoryImage: every instance's memory starts as the data
// segments left it, through the image, and a write stays in its instance.
func TestComponentMemoryImage(t *testing.T) {
	t.Parallel()
	p := newImagePool(t, 2)
	if memoryImagesSupported && p.images[0] == nil {
		t.Fatal("no memory image made for a module with data segments")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := callIso(t, a, "get"); got != "hello, image" {
		t.Fatalf("get = %q, want the data segment's string", got)
	}
	if got := callIso(t, a, "far"); got != uint8('s') {
		t.Fatalf("far = %v, want the second page's segment", got)
	}
	callIso(t, a, "poke", uint8('J'))
	if got := callIso(t, a, "get"); got != "Jello, image" {
		t.Fatalf("get after poke = %q", got)
	}
	if got := callIso(t, b, "get"); got != "hello, image" {
		t.Fatalf("another instance sees %q: a write crossed instances", got)
	}
	p.Release(a)
	p.Release(b)
}

// TestComponentPoolReplaces: with one request per isolate, every caller
// gets a fresh instance, replaced in the background, each starting from
// the image.
func TestComponentPoolReplaces(t *testing.T) {
	t.Parallel()
	bin, err := os.ReadFile("testdata/image.wasm")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := NewComponent(ctx, bin, &component.Host{}, Config[struct{}]{Isolates: 2, MaxRequestsPerIsolate: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		iso, err := p.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if seen[iso.ID] {
			t.Fatalf("isolate %s served twice with MaxRequestsPerIsolate 1", iso.ID)
		}
		seen[iso.ID] = true
		if got := callIso(t, iso, "get"); got != "hello, image" {
			t.Fatalf("request %d: get = %q, want a fresh memory", i, got)
		}
		callIso(t, iso, "poke", uint8('X'))
		p.Release(iso)
	}
	if p.Retired() != 20 {
		t.Errorf("retired %d, want 20", p.Retired())
	}
}

// BenchmarkComponentInstantiate makes isolates of a component's pool,
// whose memories start from their images: the fixture, and the component
// WASMSERVE_COMPONENT names if set (a componentize-js hello world, whose
// memory starts with megabytes of data).
func BenchmarkComponentInstantiate(b *testing.B) {
	ctx := context.Background()
	cases := []struct{ name, path string }{{"fixture", "testdata/image.wasm"}}
	if p := os.Getenv("WASMSERVE_COMPONENT"); p != "" {
		cases = append(cases, struct{ name, path string }{"real", p})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			bin, err := os.ReadFile(c.path)
			if err != nil {
				b.Fatal(err)
			}
			p, err := NewComponent(ctx, bin, &component.Host{TrapMissing: true}, Config[struct{}]{Isolates: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(ctx)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				iso, err := p.instantiate(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				iso.close(ctx)
				b.StartTimer()
			}
		})
	}
}

// TestComponentMemoryLimit: the memory limit bounds the sum of an
// instance's memories, not each one.
func TestComponentMemoryLimit(t *testing.T) {
	t.Parallel()
	if !memoryImagesSupported {
		t.Skip("the limit over an instance's memories is kept on Linux only")
	}
	bin, err := os.ReadFile("testdata/twomem.wasm")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := NewComponent(ctx, bin, &component.Host{}, Config[struct{}]{Isolates: 1, MemoryLimitPages: 3}); err == nil {
		t.Fatal("two memories of 2 pages each instantiated under a limit of 3 pages")
	}
	p, err := NewComponent(ctx, bin, &component.Host{}, Config[struct{}]{Isolates: 1, MemoryLimitPages: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	iso, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release(iso)
	if got := callIso(t, iso, "grow", uint32(2)); got != int32(-1) {
		t.Fatalf("growing to 6 pages in all under a limit of 5: memory.grow = %v, want -1", got)
	}
	if got := callIso(t, iso, "grow", uint32(1)); got != int32(2) {
		t.Fatalf("growing to 5 pages in all: memory.grow = %v, want 2 (the old size)", got)
	}
}
