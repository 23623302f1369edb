package wasip2

import (
	"context"
	"sync"
	"time"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// DatetimeType is wasi:clocks/wall-clock's datetime: seconds and
// nanoseconds since the Unix epoch.
var DatetimeType = recordType("datetime",
	cabi.Field{Name: "seconds", Type: cabi.U64Type},
	cabi.Field{Name: "nanoseconds", Type: cabi.U32Type},
)

// monoBase is the origin of the monotonic clock: instants are nanoseconds
// since it.
var monoBase = time.Now()

// MonotonicNow returns the monotonic clock's instant now, as
// wasi:clocks/monotonic-clock now answers.
func MonotonicNow() uint64 { return uint64(time.Since(monoBase)) }

// timerPollable is ready once the monotonic clock reaches its deadline.
// Its timer starts at the first Wait and stops when the guest drops it.
type timerPollable struct {
	deadline time.Duration // since monoBase

	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{}
}

// NewTimerPollable returns a pollable ready once the monotonic clock
// (MonotonicNow) reaches instant.
func NewTimerPollable(instant uint64) Pollable {
	if instant > 1<<63-1 {
		instant = 1<<63 - 1
	}
	return &timerPollable{deadline: time.Duration(instant)}
}

func (p *timerPollable) Ready() bool { return time.Since(monoBase) >= p.deadline }

func (p *timerPollable) Wait() <-chan struct{} {
	left := p.deadline - time.Since(monoBase)
	if left <= 0 {
		return closedChan
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ch == nil {
		ch := make(chan struct{})
		p.ch = ch
		p.timer = time.AfterFunc(left, func() { close(ch) })
	}
	return p.ch
}

// Close stops the timer.
func (p *timerPollable) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer != nil {
		p.timer.Stop()
	}
}

func defineClocks(h *component.Host, cfg *Config) error {
	ns := names{"pollable": PollableType, "datetime": DatetimeType, "instant": cabi.U64Type, "duration": cabi.U64Type}
	mono := &component.HostInstance{
		Name: "wasi:clocks/monotonic-clock", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"now": ns.fn("func() -> instant", func(context.Context, []any) ([]any, error) {
				return []any{MonotonicNow()}, nil
			}),
			"resolution": ns.fn("func() -> duration", func(context.Context, []any) ([]any, error) {
				return []any{uint64(1)}, nil
			}),
			"subscribe-instant": ns.fn("func(when: instant) -> pollable", func(_ context.Context, a []any) ([]any, error) {
				return []any{NewTimerPollable(a[0].(uint64))}, nil
			}),
			"subscribe-duration": ns.fn("func(when: duration) -> pollable", func(_ context.Context, a []any) ([]any, error) {
				now := MonotonicNow()
				at := now + a[0].(uint64)
				if at < now {
					at = 1<<64 - 1
				}
				return []any{NewTimerPollable(at)}, nil
			}),
		},
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	wall := &component.HostInstance{
		Name: "wasi:clocks/wall-clock", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"now": ns.fn("func() -> datetime", func(context.Context, []any) ([]any, error) {
				t := now()
				if t.Unix() < 0 {
					return []any{[]any{uint64(0), uint32(0)}}, nil
				}
				return []any{[]any{uint64(t.Unix()), uint32(t.Nanosecond())}}, nil
			}),
			"resolution": ns.fn("func() -> datetime", func(context.Context, []any) ([]any, error) {
				return []any{[]any{uint64(0), uint32(1)}}, nil
			}),
		},
	}
	for _, inst := range []*component.HostInstance{mono, wall} {
		if err := h.Define(inst); err != nil {
			return err
		}
	}
	return nil
}
