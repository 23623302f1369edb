//go:build linux

package runtimepool

import (
	"context"
	"runtime"
	"testing"
	"unsafe"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

func TestMappedMemoryGrowsInPlace(t *testing.T) {
	a := new(memoryAllocator)
	lm := a.Allocate(64<<10, 1<<20)
	m, ok := lm.(*mappedMemory)
	if !ok {
		t.Fatalf("Allocate gave a %T, want a *mappedMemory", lm)
	}
	b := m.Reallocate(64 << 10)
	if len(b) != 64<<10 {
		t.Fatalf("first Reallocate gave %d bytes, want 64 KiB", len(b))
	}
	b[0], b[len(b)-1] = 7, 9
	grown := m.Reallocate(256 << 10)
	if len(grown) != 256<<10 || unsafe.SliceData(grown) != unsafe.SliceData(b) {
		t.Fatalf("grown memory: %d bytes at %p, want 256 KiB at %p", len(grown), unsafe.SliceData(grown), unsafe.SliceData(b))
	}
	if grown[0] != 7 || grown[64<<10-1] != 9 || grown[len(grown)-1] != 0 {
		t.Errorf("growing lost or invented bytes: %d %d %d", grown[0], grown[64<<10-1], grown[len(grown)-1])
	}
	if got := m.Reallocate(2 << 20); got != nil {
		t.Errorf("Reallocate beyond the 1 MiB maximum gave %d bytes, want nil", len(got))
	}
	m.Free()
	if grown[0] != 0 {
		t.Errorf("after Free the memory still holds %d, want its pages given back (zeros)", grown[0])
	}
	if got := m.Reallocate(512 << 10); got != nil {
		t.Error("Reallocate after Free succeeded")
	}
	live := mappedLive.Load()
	a.release()
	if mappedLive.Load() != live-1 {
		t.Errorf("release left %d reservations, want %d", mappedLive.Load(), live-1)
	}
}

// TestPoolMemoriesAreMapped runs a module's memory.grow through a pool:
// the memory grows where it is, keeps its bytes, stops at the memory
// limit, and every memory of the pool's retired isolates is unmapped once
// their modules are gone.
func TestPoolMemoriesAreMapped(t *testing.T) {
	ctx := context.Background()
	// The memories earlier tests freed are unmapped first, so that none
	// is while this test counts.
	testguest.WaitFor(t, "earlier tests' memories to be unmapped", func() bool {
		runtime.GC()
		return mappedPending.Load() == 0
	})
	base := mappedLive.Load()
	p, err := New(ctx, readWasm(t, "growmem.wasm"), Config[any]{Isolates: 2, MemoryLimitPages: 16})
	if err != nil {
		t.Fatal(err)
	}
	if got := mappedLive.Load() - base; got != 2 {
		t.Errorf("a pool of 2 isolates holds %d mapped memories, want 2", got)
	}
	for round := range 20 {
		iso, err := p.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mem := iso.Module.Memory()
		before, _ := mem.Read(0, 4)
		if _, err := iso.Module.ExportedFunction("store").Call(ctx, 8, uint64(1000+round)); err != nil {
			t.Fatal(err)
		}
		if res, err := iso.Module.ExportedFunction("grow").Call(ctx, 5); err != nil || res[0] != 1 {
			t.Fatalf("grow by 5 pages = %v, %v; want the old size 1", res, err)
		}
		if res, _ := iso.Module.ExportedFunction("grow").Call(ctx, 11); uint32(res[0]) != 0xffffffff {
			t.Errorf("growing past the 16-page limit returned %d, want -1", int32(res[0]))
		}
		after, _ := mem.Read(0, 4)
		if unsafe.SliceData(after) != unsafe.SliceData(before) {
			t.Error("the memory moved when it grew")
		}
		if res, _ := iso.Module.ExportedFunction("load").Call(ctx, 8); res[0] != uint64(1000+round) {
			t.Errorf("after growing, the stored word reads %d, want %d", res[0], 1000+round)
		}
		// Discarded: the next one is a new instance with a new memory.
		p.Discard(iso, nil)
	}
	cctx, cancel := context.WithTimeout(ctx, 10e9)
	defer cancel()
	if err := p.Close(cctx); err != nil {
		t.Fatal(err)
	}
	testguest.WaitFor(t, "the closed pool's memories to be unmapped", func() bool {
		runtime.GC()
		return mappedLive.Load() <= base
	})
}
