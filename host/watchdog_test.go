package host

import (
	"context"
	"errors"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// TestWatchdogHandshake: the watchdog interrupts a call only at or past its
// deadline, and the owner's disarm tells whether it did, in either order.
func TestWatchdogHandshake(t *testing.T) {
	cases := []struct {
		name      string
		scanAt    int64 // relative to the call's deadline
		disarmFst bool  // the call ends before the scan
		fired     bool
	}{
		{"scan before the deadline", -1, false, false},
		{"scan at the deadline", 0, false, true},
		{"scan past the deadline", 5, false, true},
		{"call ended before a late scan", 5, true, false},
	}
	h, err := NewHandler(context.Background(), readFile(t, "guest-examples/hello-wat/hello.wasm"),
		HandlerConfig{Isolates: 1, HandlerTimeout: time.Hour, CacheDir: testguest.CacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	if h.Pool().InterruptMode() != runtimepool.InterruptGlobal {
		t.Fatalf("interrupt mode %s, want global", h.Pool().InterruptMode())
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			iso, err := h.Pool().Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			st := iso.Value
			d := h.wd.arm(st, iso)
			var fired bool
			if c.disarmFst {
				fired = h.wd.disarm(st, d)
			}
			if busy := h.wd.scan(d + c.scanAt); busy == c.disarmFst {
				t.Errorf("scan saw a call in flight: %v, want %v", busy, !c.disarmFst)
			}
			if !c.disarmFst {
				fired = h.wd.disarm(st, d)
			}
			if fired != c.fired {
				t.Errorf("disarm reported fired %v, want %v", fired, c.fired)
			}
			flag := iso.Module.ExportedGlobal(runtimepool.InterruptExport).Get()
			if (flag != 0) != c.fired {
				t.Errorf("interrupt flag %d, want it set: %v", flag, c.fired)
			}
			if fired {
				h.Pool().Discard(iso, errors.New("interrupted by the test"))
				waitFull(t, h)
			} else {
				h.Pool().Release(iso)
			}
		})
	}
}

// TestWatchdogParksAndWakes: with no call in flight for a timeout the
// watchdog stops ticking; the next call wakes it, and a call that outlives
// the timeout is interrupted, never before the timeout.
func TestWatchdogParksAndWakes(t *testing.T) {
	const timeout = 40 * time.Millisecond
	h, err := NewHandler(context.Background(), readFile(t, "guest-examples/hello-wat/hello.wasm"),
		HandlerConfig{Isolates: 1, HandlerTimeout: timeout, CacheDir: testguest.CacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	wd := h.wd
	if !wd.parked.Load() {
		t.Fatal("the watchdog ticks before any call")
	}
	for round := range 2 {
		iso, err := h.Pool().Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		st := iso.Value
		start := time.Now()
		d := wd.arm(st, iso)
		testguest.WaitFor(t, "the watchdog to interrupt the call", func() bool {
			return st.deadline.Load() == deadlineFired
		})
		took := time.Since(start)
		if !wd.disarm(st, d) {
			t.Fatalf("round %d: disarm after the interruption reported no firing", round)
		}
		if took < timeout {
			t.Errorf("round %d: interrupted after %v, before the %v timeout", round, took, timeout)
		}
		t.Logf("round %d: interrupted after %v (timeout %v, tick %v)", round, took, timeout, wd.tick)
		h.Pool().Discard(iso, errors.New("interrupted by the test"))
		waitFull(t, h)
		testguest.WaitFor(t, "the watchdog to park", wd.parked.Load)
	}
}

// TestWatchdogTicks: the tick is a sixteenth of the timeout within its
// bounds, and a call's allowance is never shorter than the timeout.
func TestWatchdogTicks(t *testing.T) {
	cases := []struct {
		name    string
		timeout time.Duration
		tick    time.Duration
	}{
		{"default", 30 * time.Second, time.Second},
		{"a sixteenth", 160 * time.Millisecond, 10 * time.Millisecond},
		{"not a multiple", 100 * time.Millisecond, 6250 * time.Microsecond},
		{"below the smallest tick", time.Microsecond, time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wd := newWatchdog(c.timeout)
			defer wd.close()
			if wd.tick != c.tick {
				t.Errorf("tick %v, want %v", wd.tick, c.tick)
			}
			// A call armed just before a tick has ticks-1 whole ticks.
			if got := time.Duration(wd.ticks-1) * wd.tick; got < c.timeout {
				t.Errorf("allowance %v (%d ticks), shorter than the timeout %v", got, wd.ticks, c.timeout)
			}
			if got := time.Duration(wd.ticks-1) * wd.tick; got >= c.timeout+wd.tick {
				t.Errorf("allowance %v (%d ticks), a whole tick longer than the timeout %v", got, wd.ticks, c.timeout)
			}
		})
	}
}

// TestWatchdogForgetsClosedIsolates: the watchdog does not keep isolates
// the pool closed alive, even parked: with a new instance per request
// (and with it a 64 KiB linear memory each), holding them until a scan
// would hold hundreds of megabytes under load. The guest cannot be reset,
// so every request's isolate is closed and replaced.
func TestWatchdogForgetsClosedIsolates(t *testing.T) {
	const requests = 100
	h, err := NewHandler(context.Background(), readFile(t, "host/testdata/noreset.wasm"),
		HandlerConfig{Isolates: 2, MaxRequestsPerIsolate: 1, HandlerTimeout: time.Hour, CacheDir: testguest.CacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	if b := h.Pool().Stats().ResetBlocker; !strings.Contains(b, "fd_close") {
		t.Fatalf("reset blocker %q: the guest's isolates would be reset, not closed", b)
	}
	for range requests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
		if w.Code != 200 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	waitFull(t, h)
	runtime.GC()
	runtime.GC()
	h.wd.mu.Lock()
	registered, alive := len(h.wd.states), 0
	for _, wp := range h.wd.states {
		if wp.Value() != nil {
			alive++
		}
	}
	h.wd.mu.Unlock()
	t.Logf("%d requests: %d isolate states registered, %d still alive", requests, registered, alive)
	if h.Pool().Retired() < requests/2 {
		t.Fatalf("%d isolates retired in %d requests, want new instances", h.Pool().Retired(), requests)
	}
	if alive > h.Pool().Size() {
		t.Errorf("%d closed isolates kept alive by the watchdog", alive-h.Pool().Size())
	}
}
