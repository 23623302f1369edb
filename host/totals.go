package host

import (
	"sync"
	"sync/atomic"

	"github.com/wasmserve/wasmserve/host/observe"
)

// handlerTotals are a Handler's counters that outlive its generations:
// what drained pools counted, and the reloads.
type handlerTotals struct {
	mu                      sync.Mutex // held while a drained pool's counts move here
	broken, retired, resets uint64     // of pools already forgotten

	reloads, reloadFailures atomic.Uint64
	lastReloadFailed        atomic.Bool
}

// totals are the Handler's counters since it started, across reloads.
type totals struct {
	broken, retired, resets uint64
	reloads, reloadFailures uint64
	lastReloadFailed        bool
}

// totals sums the counters of the pools still alive and of those drained.
func (h *Handler) totals() totals {
	t := &h.counts
	t.mu.Lock()
	out := totals{broken: t.broken, retired: t.retired, resets: t.resets}
	h.pools.Range(func(k, _ any) bool {
		p := k.(*pool)
		out.broken += p.Replaced()
		out.retired += p.Retired()
		out.resets += p.Resets()
		return true
	})
	t.mu.Unlock()
	out.reloads, out.reloadFailures = t.reloads.Load(), t.reloadFailures.Load()
	out.lastReloadFailed = t.lastReloadFailed.Load()
	return out
}

// forget drops a drained pool, keeping its counts.
func (h *Handler) forget(p *pool) {
	t := &h.counts
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := h.pools.LoadAndDelete(p); ok {
		t.broken += p.Replaced()
		t.retired += p.Retired()
		t.resets += p.Resets()
	}
}

// countReload records a reload's result.
func (h *Handler) countReload(err error) {
	if err != nil {
		h.counts.reloadFailures.Add(1)
	} else {
		h.counts.reloads.Add(1)
	}
	h.counts.lastReloadFailed.Store(err != nil)
}

// HandlerStats is the handler's state now, for the metrics
// (observe.Metrics.Collect).
func (h *Handler) HandlerStats() observe.HandlerStats {
	pool := h.Pool()
	t := h.totals()
	return observe.HandlerStats{
		Idle: pool.Idle(), Busy: pool.Busy(), Size: pool.Size(), Waiting: pool.Waiting(),
		Healthy: pool.Healthy(), CompileTime: pool.Stats().CompileTime, Generation: h.Generation(),
		Broken: t.broken, Retired: t.retired, Resets: t.resets,
		Reloads: t.reloads, ReloadFailures: t.reloadFailures, LastReloadFailed: t.lastReloadFailed,
	}
}
