package host

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// TestGoGuestLoopTimesOut: a Go handler stuck in for {} is interrupted by
// the handler timeout (504), and the isolate is replaced.
func TestGoGuestLoopTimesOut(t *testing.T) {
	wasm, err := os.ReadFile(testguest.BuildPackage(t, "host/testdata/spinguest"))
	if err != nil {
		t.Fatal(err)
	}
	base, h, _ := startConfig(t, wasm, HandlerConfig{Isolates: 2, HandlerTimeout: 200 * time.Millisecond}, server.Config{})
	if m := h.Pool().InterruptMode(); m != runtimepool.InterruptGlobal {
		t.Fatalf("interrupt mode %s, want global", m)
	}
	var wg sync.WaitGroup
	for range 2 { // both isolates, so that no core is left to a timer if checks did not yield
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body, _ := fetch(t, "GET", base+"/spin", nil); code != http.StatusGatewayTimeout {
				t.Errorf("GET /spin: %d %q, want 504", code, body)
			}
		}()
	}
	wg.Wait()
	waitFull(t, h)
	if code, body, _ := fetch(t, "GET", base+"/", nil); code != 200 || body != "ok" {
		t.Errorf("GET / after the timeouts: %d %q", code, body)
	}
}

// TestInterruptBusyIsolates: Interrupt ends calls stuck in loops on every
// isolate with 503, and later requests fail at once.
func TestInterruptBusyIsolates(t *testing.T) {
	base, h, _ := startConfig(t, faultsWasm(t), HandlerConfig{Isolates: 2, HandlerTimeout: time.Minute}, server.Config{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _, _ := fetch(t, "GET", base+"/loop", nil); code != http.StatusServiceUnavailable {
				t.Errorf("GET /loop: %d, want 503", code)
			}
		}()
	}
	testguest.WaitFor(t, "both isolates to be busy", func() bool { return h.Pool().Busy() == 2 })
	start := time.Now()
	h.Interrupt()
	wg.Wait()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("interrupting took %v", d)
	}
	if code, _, _ := fetch(t, "GET", base+"/ok", nil); code != http.StatusServiceUnavailable {
		t.Errorf("GET /ok after Interrupt: %d, want 503", code)
	}
}

// TestTimerFiresAsCallEnds: with the watchdog firing at every tick, so that
// it often fires during or right as a call ends, every answer is 200 or
// 504, and no isolate goes back to the pool with its interrupt flag set.
func TestTimerFiresAsCallEnds(t *testing.T) {
	h, err := NewHandler(context.Background(), readFile(t, "guest-examples/hello-wat/hello.wasm"),
		HandlerConfig{Isolates: 1, HandlerTimeout: time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	// A call's allowance is one tick, whatever its start: every tick
	// fires on the call in flight. The watchdog is parked until the first
	// call, whose wake-up orders this write before its reads.
	h.wd.ticks = 1
	codes := map[int]int{}
	start := time.Now()
	for n := 0; n < 300 || h.Pool().Replaced() < 20 && time.Since(start) < 5*time.Second; n++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
		codes[w.Code]++
		if w.Code != 200 && w.Code != http.StatusGatewayTimeout {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		iso, err := h.Pool().Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if v := iso.Module.ExportedGlobal(runtimepool.InterruptExport).Get(); v != 0 {
			t.Fatalf("isolate %s is idle with its interrupt flag set", iso.ID)
		}
		h.Pool().Release(iso)
	}
	t.Logf("answers: %v, isolates replaced: %d", codes, h.Pool().Replaced())
	if h.Pool().Replaced() == 0 {
		t.Error("the watchdog never fired on a call: the test tested nothing")
	}
}
