package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrHandlerClosed is what Reload returns once the Handler is closing.
var ErrHandlerClosed = errors.New("handler is closed: no module can be loaded any more")

// Reload compiles wasm, fills a new pool with it, and swaps it in for the
// module now serving: requests from then on go to the new module, requests
// already inside an isolate of the old one finish there, and the old pool is
// closed once they have. A module that fails to compile or start is an error
// and the old module keeps serving. After Close, Reload does nothing and
// returns ErrHandlerClosed.
func (h *Handler) Reload(ctx context.Context, wasm []byte) error {
	h.reload.Lock()
	defer h.reload.Unlock()
	if h.closed {
		return ErrHandlerClosed
	}
	start := time.Now()
	gen, err := h.newGeneration(ctx, wasm)
	h.countReload(err)
	if err != nil {
		h.log.Error("reload failed; the old module keeps serving", "err", err)
		return fmt.Errorf("reloading module: %w", err)
	}
	old := h.cur.Swap(gen)
	h.log.Info("module reloaded", "generation", gen.n, "replaced", old.n,
		"isolates", gen.pool.Size(), "took", time.Since(start).Round(time.Millisecond))
	h.drains.Add(1)
	go func() {
		defer h.drains.Done()
		// In-flight calls are bounded by the handler timeout when there
		// is one; without, the old pool waits for them however long.
		if err := old.pool.Close(context.Background()); err != nil {
			h.log.Warn("draining the replaced module", "generation", old.n, "err", err)
			return
		}
		h.forget(old.pool)
		h.log.Debug("replaced module drained", "generation", old.n)
	}()
	return nil
}

// Generation counts the modules loaded: 1 for the first, one more for each
// successful reload.
func (h *Handler) Generation() uint64 { return h.cur.Load().n }

// Watch polls path every interval until ctx is done and calls reload when
// its modification time or size changes; reload reports its own failures.
// A file that cannot be stat'ed is logged and tried again at the next poll.
// An interval of 0 means every second.
func Watch(ctx context.Context, path string, interval time.Duration, reload func() error, log interface {
	Error(msg string, args ...any)
}) {
	if interval <= 0 {
		interval = time.Second
	}
	stamp := func() (time.Time, int64, error) {
		fi, err := os.Stat(path)
		if err != nil {
			return time.Time{}, 0, err
		}
		return fi.ModTime(), fi.Size(), nil
	}
	mtime, size, _ := stamp()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m, s, err := stamp()
		if err != nil {
			log.Error("watching module", "path", path, "err", err)
			continue
		}
		if m.Equal(mtime) && s == size {
			continue
		}
		mtime, size = m, s
		reload()
	}
}
