package host

import (
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/wasmserve/wasmserve/runtimepool"
)

// watchdog enforces the handler timeout of the calls of one Handler whose
// pools interrupt through the interrupt global. It keeps a coarse clock, a
// count of ticks of a fraction of the timeout, and at every tick interrupts
// the isolates whose call has run out of ticks. A call costs a few atomic
// operations on its isolate's state instead of a timer reset and stop
// (which read the clock and take the timer heap's lock). The price is
// precision: a call is interrupted after the timeout and less than two
// ticks later.
//
// The goroutine stops ticking after a timeout's worth of ticks with no
// call in flight, and the next call wakes it, so an idle server does not
// wake up for it.
type watchdog struct {
	tick  time.Duration
	ticks int64 // a call's allowance, in ticks: the timeout rounded up, plus one

	now    atomic.Int64 // ticks counted while running; starts at 1
	parked atomic.Bool  // the goroutine waits on wake
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once

	mu sync.Mutex
	// states are the isolates that have made a call, held weakly: an
	// isolate the pool has closed and dropped is collected with its
	// memory, even while the watchdog is parked and does not scan. (With
	// --max-requests-per-isolate 1 that is every request's isolate.)
	states []weak.Pointer[isolateState]
}

// Bounds of a watchdog tick: a sixteenth of the timeout within them.
const (
	minTick = time.Millisecond
	maxTick = time.Second
)

// deadlineFired is the deadline of an isolate state whose call the
// watchdog interrupted; 0 means no call in flight.
const deadlineFired = -1

// newWatchdog starts the watchdog goroutine of timeout, parked until the
// first call.
func newWatchdog(timeout time.Duration) *watchdog {
	tick := min(max(timeout/16, minTick), maxTick)
	wd := &watchdog{
		tick:  tick,
		ticks: int64((timeout+tick-1)/tick) + 1,
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	wd.now.Store(1)
	wd.parked.Store(true)
	go wd.run()
	return wd
}

// arm starts the clock of st's call. Only st's owner calls it, and then
// disarm before the next arm.
func (wd *watchdog) arm(st *isolateState, iso *isolate) int64 {
	if st.iso == nil {
		st.iso = iso
		wp := weak.Make(st)
		wd.mu.Lock()
		wd.states = append(wd.states, wp)
		wd.mu.Unlock()
	}
	d := wd.now.Load() + wd.ticks
	st.deadline.Store(d)
	if wd.parked.Load() && wd.parked.CompareAndSwap(true, false) {
		wd.wake <- struct{}{}
	}
	return d
}

// disarm ends the clock of st's call armed with deadline d. It reports
// whether the watchdog interrupted the call, even as it was ending: the
// isolate's interrupt flag may then be set, so it must not serve again.
func (wd *watchdog) disarm(st *isolateState, d int64) bool {
	return !st.deadline.CompareAndSwap(d, 0)
}

// run ticks until close, parking while no call is in flight.
func (wd *watchdog) run() {
	defer close(wd.done)
	t := time.NewTicker(wd.tick)
	defer t.Stop()
	for {
		if wd.parked.Load() {
			t.Stop()
			select {
			case <-wd.wake:
			case <-wd.stop:
				return
			}
			t.Reset(wd.tick)
		}
		var quiet int64 // ticks in a row without a call in flight
		for quiet <= wd.ticks {
			select {
			case <-t.C:
			case <-wd.stop:
				return
			}
			if wd.scan(wd.now.Add(1)) {
				quiet = 0
			} else {
				quiet++
			}
		}
		// Park. A call armed after the scan above saw parked false and
		// did not wake us: scan again once parked is visible.
		wd.parked.Store(true)
		if wd.scan(wd.now.Load()) && !wd.parked.CompareAndSwap(true, false) {
			// A call took the wake-up already: consume it.
			<-wd.wake
		}
	}
}

// scan interrupts the calls whose deadline is now or before and forgets
// closed and collected isolates. It reports whether any call was in flight.
func (wd *watchdog) scan(now int64) (busy bool) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	live := wd.states[:0]
	for _, wp := range wd.states {
		st := wp.Value()
		if st == nil || st.iso.State() == runtimepool.StateClosed {
			continue
		}
		live = append(live, wp)
		d := st.deadline.Load()
		if d == 0 {
			continue
		}
		busy = true
		if d > 0 && d <= now && st.deadline.CompareAndSwap(d, deadlineFired) {
			st.iso.Interrupt()
		}
	}
	clear(wd.states[len(live):])
	wd.states = live
	return busy
}

// close stops the goroutine and waits for it.
func (wd *watchdog) close() {
	wd.closed.Do(func() { close(wd.stop) })
	<-wd.done
}
