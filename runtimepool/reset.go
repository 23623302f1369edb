package runtimepool

import (
	"crypto/rand"
	"fmt"
	"sync/atomic"

	"github.com/tetratelabs/wazero/api"
)

// Resetting an isolate gives a caller the same state a new instance would
// have after its start function, at the cost of copying the memory back,
// instead of instantiating (see RATIONALE.md). wasmprep's rewrite decides which modules
// keep all their state in memory and globals; the pool takes the image from
// its first isolate before it serves anything, and every reset copies it
// back, so nothing a caller leaves in memory or globals reaches the next.

// image is an isolate's memory and mutable globals right after its start
// function.
type image struct {
	mem     []byte
	globals []uint64
}

// takeImage records iso's state as the one every reset restores. It must be
// called before iso serves anything.
func (p *Pool[V]) takeImage(iso *Isolate[V]) {
	img := &image{globals: make([]uint64, len(iso.globals))}
	if mem := iso.Module.Memory(); mem != nil {
		b, _ := mem.Read(0, mem.Size())
		img.mem = append([]byte(nil), b...)
	}
	for i, g := range iso.globals {
		img.globals[i] = g.Get()
	}
	p.image = img
}

// reset puts iso back to the image. It reports false, changing nothing,
// when the pool takes no images or iso's memory grew since its start; the
// isolate must then be replaced.
func (p *Pool[V]) reset(iso *Isolate[V]) bool {
	img := p.image
	if img == nil {
		return false
	}
	if mem := iso.Module.Memory(); mem != nil {
		// Memory never shrinks: one that grew needs a new instance.
		if uint64(mem.Size()) != uint64(len(img.mem)) {
			return false
		}
		b, ok := mem.Read(0, mem.Size())
		if !ok {
			return false
		}
		copy(b, img.mem)
	}
	for i, g := range iso.globals {
		g.Set(img.globals[i])
	}
	iso.uses = 0
	p.resets.Add(1)
	return true
}

// Resets counts isolates reset to their state after start because they had
// served Config.MaxRequestsPerIsolate calls.
func (p *Pool[V]) Resets() uint64 { return p.resets.Load() }

// bindGlobals resolves the module's mutable globals exported by the rewrite.
func (iso *Isolate[V]) bindGlobals(names []string) error {
	iso.globals = make([]api.MutableGlobal, len(names))
	for i, name := range names {
		g, ok := iso.Module.ExportedGlobal(name).(api.MutableGlobal)
		if !ok {
			return fmt.Errorf("no mutable global %q", name)
		}
		iso.globals[i] = g
	}
	return nil
}

// randSource is a module's source of random bytes that remembers whether it
// was read.
type randSource struct{ read atomic.Bool }

// Read fills b from crypto/rand.
func (r *randSource) Read(b []byte) (int, error) {
	r.read.Store(true)
	return rand.Read(b)
}
