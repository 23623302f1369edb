package runtimepool

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/runtimepool/component"
)

// State is where an isolate is in its life:
//
//	idle → busy → idle        a call that ended normally
//	busy → broken → closed    a call that trapped, timed out, exited, or
//	                          whose host function failed or panicked
//	busy → closed             retired after Config.MaxRequestsPerIsolate
//	idle → closed             the pool closed
//
// Broken and retired isolates are replaced in the background, so the pool
// returns to full size without a caller waiting for an instantiation.
// closed is terminal: a closed isolate's memory is gone and it is never
// handed out again.
type State uint32

// The states of an isolate.
const (
	StateIdle State = iota
	StateBusy
	StateBroken
	StateClosed
)

// String names the state.
func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateBusy:
		return "busy"
	case StateBroken:
		return "broken"
	case StateClosed:
		return "closed"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Isolate is one instance of the pool's module with its own linear memory.
// Between Acquire and Release (or Discard) it belongs to one caller.
type Isolate[V any] struct {
	// ID names the isolate in logs, unique within the pool.
	ID string
	// Module is the wazero instance; nil in a component's pool.
	Module api.Module
	// Component is the component instance in a pool made by
	// NewComponent; nil otherwise.
	Component *component.Instance
	// Value is what Config.Prepare returned for this isolate.
	Value V

	pool  *Pool[V]
	state atomic.Uint32
	uses  int // calls served; only the owner touches it

	globals     []api.MutableGlobal // the module's own mutable globals, for resets
	randAtStart bool                // the start function read random bytes

	imu       sync.Mutex        // serialises writes to interrupt
	interrupt api.MutableGlobal // nil unless the pool's mode is InterruptGlobal
	countdown api.MutableGlobal

	woken chan struct{} // closed by Interrupt: ends a WASI sleep
	wake  sync.Once
}

// sleep is the isolate's WASI clock sleep (poll_oneoff with a clock
// subscription): a sleep of ns nanoseconds that Interrupt ends early, since
// no check inserted in the guest's code runs while it sleeps in Go.
func (iso *Isolate[V]) sleep(ns int64) {
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-iso.woken:
		// A trap of poll_oneoff (wazero turns a host function's panic
		// into the call's error): the guest must not go on as if it
		// had slept.
		panic(errSleepInterrupted)
	}
}

var errSleepInterrupted = errors.New("interrupted while sleeping in poll_oneoff")

// Interrupt makes the isolate's call in progress, and every later one, trap
// at its next function call or loop iteration. It is safe to call from any
// goroutine, at any time, even after the isolate was closed. It reports
// false when the pool's module was not made interruptible this way (see
// Pool.InterruptMode); the isolate then has to be interrupted through the
// call's context, if at all. In every mode, it ends a WASI sleep
// (poll_oneoff) the call is in, now and later, so that the guest gets back
// to where it can be stopped.
func (iso *Isolate[V]) Interrupt() bool {
	iso.wake.Do(func() { close(iso.woken) })
	if iso.interrupt == nil {
		return false
	}
	iso.imu.Lock()
	iso.interrupt.Set(1)
	// The guest may overwrite this with its own count: then it sees the
	// flag within wasmprep.YieldEvery calls or iterations instead of at once.
	iso.countdown.Set(0)
	iso.imu.Unlock()
	return true
}

// State returns the isolate's state now.
func (iso *Isolate[V]) State() State { return State(iso.state.Load()) }

func (iso *Isolate[V]) close(ctx context.Context) {
	iso.state.Store(uint32(StateClosed))
	if iso.pool != nil {
		iso.pool.live.Delete(iso)
	}
	if iso.Module != nil {
		iso.Module.Close(ctx)
	}
	if iso.Component != nil {
		iso.Component.Close(ctx)
	}
}
