package apps

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/host/reqinfo"
)

// lazy is a module app's handler made on its first request (Options.Lazy)
// and closed after Options.IdleTimeout without one (scale to zero), to be
// made again on the next. Requests that arrive while it is being made wait
// for it.
type lazy struct {
	name string
	make func(ctx context.Context, module []byte) (Handler, error)
	idle time.Duration
	log  *slog.Logger

	mu       sync.Mutex
	module   []byte
	h        Handler // nil while cold
	inflight int
	last     time.Time
	timer    *time.Timer
	closed   bool
	starts   uint64        // handlers made
	reloads  uint64        // modules swapped while warm
	released uint64        // handlers closed for idleness
	took     time.Duration // how long the last handler took to make
}

func newLazy(name string, module []byte, make func(context.Context, []byte) (Handler, error), idle time.Duration, log *slog.Logger) *lazy {
	return &lazy{name: name, module: module, make: make, idle: idle, log: log}
}

// warm makes the handler now, as an eager app's is made at Apply.
func (l *lazy) warm(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.ensure(ctx); err != nil {
		return err
	}
	l.last = time.Now()
	l.arm()
	return nil
}

// ensure makes the handler if it is cold; l.mu is held.
func (l *lazy) ensure(ctx context.Context) error {
	if l.closed {
		return fmt.Errorf("app %q is closed", l.name)
	}
	if l.h != nil {
		return nil
	}
	start := time.Now()
	var h Handler
	var err error
	firstModule(func() { h, err = l.make(ctx, l.module) })
	if err != nil {
		return err
	}
	l.h = h
	l.starts++
	l.took = time.Since(start)
	return nil
}

// arm schedules the idle check; l.mu is held.
func (l *lazy) arm() {
	if l.idle <= 0 || l.closed {
		return
	}
	if l.timer == nil {
		l.timer = time.AfterFunc(l.idle, l.expire)
		return
	}
	l.timer.Reset(l.idle)
}

// expire closes the handler if no request came for the idle timeout.
func (l *lazy) expire() {
	l.mu.Lock()
	if l.h == nil || l.inflight > 0 || l.closed {
		l.mu.Unlock()
		return
	}
	if left := l.idle - time.Since(l.last); left > 0 {
		l.timer.Reset(left)
		l.mu.Unlock()
		return
	}
	h := l.h
	l.h = nil
	l.released++
	l.mu.Unlock()
	l.log.Info("idle app released its isolates", "app", l.name, "idle", l.idle)
	if err := h.Close(context.Background()); err != nil {
		l.log.Warn("closing an idle app", "app", l.name, "err", err)
	}
}

// ServeHTTP serves r on the handler, made first if cold. A handler that
// cannot be made answers 503 (the reason is logged under the request id);
// the next request tries again.
func (l *lazy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	cold := l.h == nil
	if err := l.ensure(context.WithoutCancel(r.Context())); err != nil {
		l.mu.Unlock()
		id := reqinfo.IDOf(w)
		l.log.Error("app failed to start", "app", l.name, "request_id", id, "err", err)
		reqinfo.WriteError(w, http.StatusServiceUnavailable, "503 service unavailable", id)
		return
	}
	h := l.h
	l.inflight++
	if cold {
		l.log.Info("app started on a request", "app", l.name, "took", l.took.Round(time.Millisecond), "starts", l.starts)
	}
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.inflight--
		l.last = time.Now()
		if l.inflight == 0 {
			l.arm()
		}
		l.mu.Unlock()
	}()
	h.ServeHTTP(w, r)
}

// Reload swaps a warm handler's module (its Reload), and makes the next
// handler with it.
func (l *lazy) Reload(ctx context.Context, module []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h != nil {
		r, ok := l.h.(interface {
			Reload(context.Context, []byte) error
		})
		if !ok {
			return fmt.Errorf("app %q: its handler cannot reload a module", l.name)
		}
		if err := r.Reload(ctx, module); err != nil {
			return err
		}
		l.reloads++
	}
	l.module = module
	return nil
}

// Close closes the handler if it is warm; no request makes one after.
func (l *lazy) Close(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
	}
	h := l.h
	l.h = nil
	l.mu.Unlock()
	if h == nil {
		return nil
	}
	return h.Close(ctx)
}

// current is the handler if warm, else nil.
func (l *lazy) current() Handler {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.h
}

// Warm reports whether the app's handler is made.
func (l *lazy) Warm() bool { return l.current() != nil }

// Healthy is the warm handler's health; a cold app is healthy: it starts
// on its next request.
func (l *lazy) Healthy() bool {
	if h, ok := l.current().(interface{ Healthy() bool }); ok {
		return h.Healthy()
	}
	return true
}

// Interrupt interrupts the warm handler's guests.
func (l *lazy) Interrupt() {
	if h, ok := l.current().(interface{ Interrupt() }); ok {
		h.Interrupt()
	}
}

// HandlerStats are the warm handler's; a cold app has no isolates. The
// generation counts the handlers made and the modules swapped in them.
func (l *lazy) HandlerStats() observe.HandlerStats {
	var st observe.HandlerStats
	if h, ok := l.current().(observe.HandlerStatser); ok {
		st = h.HandlerStats()
	} else {
		st.Healthy = true
	}
	l.mu.Lock()
	st.Generation = l.starts + l.reloads
	l.mu.Unlock()
	return st
}
