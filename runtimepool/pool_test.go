package runtimepool

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

func readWasm(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newPool(t testing.TB, cfg Config[any]) *Pool[any] {
	t.Helper()
	p, err := New(context.Background(), readWasm(t, "spin.wasm"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return p
}

// call runs a no-argument export of iso and returns its first result.
func call(t testing.TB, ctx context.Context, iso *Isolate[any], name string) (uint64, error) {
	t.Helper()
	res, err := iso.Module.ExportedFunction(name).Call(ctx)
	if err != nil || len(res) == 0 {
		return 0, err
	}
	return res[0], nil
}

// waitFull waits, up to a generous bound, until every isolate is idle.
func waitFull(t *testing.T, p *Pool[any]) {
	t.Helper()
	testguest.WaitFor(t, "the pool to be back to full size", func() bool { return p.Idle() == p.Size() })
}

func TestCheckMemory(t *testing.T) {
	cases := []struct {
		name, file string
		limit      uint32
		want       string // empty: accepted
	}{
		{"no limit", "bigmem.wasm", 0, ""},
		{"limit equal to the minimum", "bigmem.wasm", 3, ""},
		{"declared maximum above the limit", "maxmem.wasm", 16, "module declares a maximum memory of 2 MiB (32 pages), above the memory limit of 1 MiB (16 pages); raise the limit or lower the module's maximum"},
		{"declared maximum within the limit", "maxmem.wasm", 32, ""},
		{"limit below the minimum", "bigmem.wasm", 2, "module needs 192 KiB of memory at start (3 pages), above the memory limit of 128 KiB (2 pages)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := New(context.Background(), readWasm(t, c.file), Config[any]{Isolates: 1, MemoryLimitPages: c.limit})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				p.Close(context.Background())
				return
			}
			if err == nil || err.Error() != c.want {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

func TestDiscardReplacesInBackground(t *testing.T) {
	p := newPool(t, Config[any]{Isolates: 2})
	iso, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, context.Background(), iso, "trap"); err == nil {
		t.Fatal("trap did not fail")
	}
	p.Discard(iso, errors.New("trapped"))
	if s := iso.State(); s != StateBroken && s != StateClosed {
		t.Errorf("discarded isolate is %s", s)
	}
	waitFull(t, p)
	if p.Replaced() != 1 || !p.Healthy() {
		t.Errorf("replaced %d healthy %v", p.Replaced(), p.Healthy())
	}
}

// TestReplacementBackoff: while instantiation keeps failing the pool reports
// itself unhealthy; once it works again the pool refills and is healthy.
func TestReplacementBackoff(t *testing.T) {
	var failing atomic.Bool
	p := newPool(t, Config[any]{Isolates: 1, Bind: func(any, api.Module) error {
		if failing.Load() {
			return errors.New("bind refused")
		}
		return nil
	}})
	iso, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	failing.Store(true)
	p.Discard(iso, errors.New("test"))
	testguest.WaitFor(t, "the pool to report unhealthy", func() bool { return !p.Healthy() })
	failing.Store(false)
	waitFull(t, p)
	testguest.WaitFor(t, "the pool to report healthy", p.Healthy)
}

func TestAcquireBounds(t *testing.T) {
	p := newPool(t, Config[any]{Isolates: 1, MaxQueue: 1, QueueTimeout: 50 * time.Millisecond})
	iso, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Acquire(context.Background()); !errors.Is(err, ErrQueueTimeout) || !errors.Is(err, ErrOverloaded) {
		t.Errorf("acquire past the queue timeout: %v", err)
	}
	waiting := make(chan error, 1)
	go func() {
		_, err := p.Acquire(context.Background())
		waiting <- err
	}()
	testguest.WaitFor(t, "a waiter", func() bool { return p.Waiting() == 1 })
	if _, err := p.Acquire(context.Background()); !errors.Is(err, ErrQueueFull) {
		t.Errorf("acquire beyond the queue bound: %v", err)
	}
	<-waiting
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("acquire with a cancelled context: %v", err)
	}
	p.Release(iso)
}

func TestMaxRequestsPerIsolate(t *testing.T) {
	cases := []struct {
		name string
		max  int
		want func(n uint64) bool
	}{
		{"reuse forever", 0, func(n uint64) bool { return n >= 1 }},
		{"fresh every call", 1, func(n uint64) bool { return n == 1 }},
		{"two calls each", 2, func(n uint64) bool { return n == 1 || n == 2 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPool(t, Config[any]{Isolates: 2, MaxRequestsPerIsolate: c.max})
			for i := range 30 {
				iso, err := p.Acquire(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				n, err := call(t, context.Background(), iso, "count")
				if err != nil || !c.want(n) {
					t.Fatalf("call %d: count %d, %v", i, n, err)
				}
				p.Release(iso)
			}
			if c.max > 0 && p.Resets() == 0 {
				t.Errorf("nothing reset (%s)", p.Stats().ResetBlocker)
			}
		})
	}
}

// TestHammer: many goroutines over two isolates; an ownership flag per
// isolate proves no two callers hold one at once, and the guest's call count
// proves every isolate is renewed after five calls, by a reset or (without
// an image) by a new instance.
func TestHammer(t *testing.T) {
	const max = 5
	for _, c := range []struct {
		name    string
		noReset bool
	}{{"reset", false}, {"replaced", true}} {
		t.Run(c.name, func(t *testing.T) {
			p := newPool(t, Config[any]{Isolates: 2, MaxRequestsPerIsolate: max})
			if c.noReset {
				p.image = nil // as for a module that cannot be reset
			}
			var owners sync.Map // isolate ID → *atomic.Bool
			var wg sync.WaitGroup
			for w := range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 100 {
						iso, err := p.Acquire(context.Background())
						if err != nil {
							t.Error(err)
							return
						}
						v, _ := owners.LoadOrStore(iso.ID, new(atomic.Bool))
						if !v.(*atomic.Bool).CompareAndSwap(false, true) {
							t.Errorf("isolate %s handed to two callers", iso.ID)
						}
						if (w+i)%9 == 0 {
							call(t, context.Background(), iso, "trap")
							v.(*atomic.Bool).Store(false)
							p.Discard(iso, errors.New("trap"))
							continue
						}
						if n, err := call(t, context.Background(), iso, "count"); err != nil || n > max {
							t.Errorf("isolate %s: count %d, %v; want at most %d", iso.ID, n, err, max)
						}
						v.(*atomic.Bool).Store(false)
						p.Release(iso)
					}
				}()
			}
			wg.Wait()
			waitFull(t, p)
			if c.noReset && (p.Resets() != 0 || p.Retired() == 0) || !c.noReset && p.Resets() == 0 {
				t.Errorf("%d resets, %d retired", p.Resets(), p.Retired())
			}
		})
	}
}

// TestTimeoutInterrupts: with CloseOnContextDone a looping call ends when
// its deadline passes.
func TestTimeoutInterrupts(t *testing.T) {
	p := newPool(t, Config[any]{Isolates: 1, CloseOnContextDone: true})
	iso, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = iso.Module.ExportedFunction("spin").Call(ctx, 0xffffffff)
	for range 1000 { // 4 billion iterations at most per call
		if err != nil {
			break
		}
		_, err = iso.Module.ExportedFunction("spin").Call(ctx, 0xffffffff)
	}
	if err == nil || ctx.Err() == nil {
		t.Fatalf("spin was not interrupted: %v", err)
	}
	p.Discard(iso, err)
	waitFull(t, p)
}

func TestCloseWaitsForBusy(t *testing.T) {
	p, err := New(context.Background(), readWasm(t, "spin.wasm"), Config[any]{Isolates: 2})
	if err != nil {
		t.Fatal(err)
	}
	iso, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); err == nil || !strings.Contains(err.Error(), "1 isolates still busy") {
		t.Fatalf("drain with a busy isolate: %v", err)
	}
	if _, err := p.Acquire(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("acquire after close: %v", err)
	}
	p.Release(iso)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if iso.State() != StateClosed {
		t.Errorf("released isolate of a closed pool is %s", iso.State())
	}
}

// TestCloseRacesRelease: the last isolate coming home as the pool closes
// always ends Close, whichever of the two sees the other first.
func TestCloseRacesRelease(t *testing.T) {
	wasm := readWasm(t, "spin.wasm")
	for round := range 100 {
		p, err := New(context.Background(), wasm, Config[any]{Isolates: 2})
		if err != nil {
			t.Fatal(err)
		}
		var isos []*Isolate[any]
		for range 2 {
			iso, err := p.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			isos = append(isos, iso)
		}
		var wg sync.WaitGroup
		for _, iso := range isos {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.Release(iso)
			}()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = p.Close(ctx)
		cancel()
		wg.Wait()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if n := p.Busy(); n != 0 {
			t.Fatalf("round %d: %d busy after Close", round, n)
		}
	}
}

func TestWASIEnvRejectsMalformed(t *testing.T) {
	_, err := New(context.Background(), readWasm(t, "spin.wasm"), Config[any]{Isolates: 1, Env: []string{"NOEQUALS"}})
	if err == nil || !strings.Contains(err.Error(), `"NOEQUALS" is not KEY=VALUE`) {
		t.Fatalf("got %v", err)
	}
}

// TestPoolRefusesHugeTable: New refuses a table that could not be
// instantiated within wasmprep.MaxTableElements before wazero sees the
// module.
func TestPoolRefusesHugeTable(t *testing.T) {
	huge := module(sec(4, wasmbin.AppendU32([]byte{1, 0x70, 0x00}, 1<<27)...))
	_, err := New(context.Background(), huge, Config[any]{Isolates: 1})
	if err == nil || !strings.Contains(err.Error(), "table 0 needs 134217728 elements") {
		t.Fatalf("err %v, want the table refused", err)
	}
}

// TestNewRefusesMalformed: a module the pre-check or the rewriter cannot
// read is an error of New, a *wasmbin.FormatError naming the section, in
// every interrupt mode; the pool never falls back to serving it as it is.
func TestNewRefusesMalformed(t *testing.T) {
	crash := []byte("\x00asm\x01\x00\x00\x00\x02\x05\xff\xff\xff\xff\x0f")
	badOp := module(typeNop, funcNop, mem1, sec(10, 1, 3, 0, 0x27, 0x0B))
	cases := []struct {
		name string
		wasm []byte
		cfg  Config[any]
		want string
	}{
		{"import count, plain", crash, Config[any]{Isolates: 1}, "import section, offset 10: import count 4294967295"},
		{"import count, interruptible", crash, Config[any]{Isolates: 1, Interruptible: true}, "import section, offset 10"},
		{"import count, resets", crash, Config[any]{Isolates: 1, MaxRequestsPerIsolate: 1}, "import section, offset 10"},
		{"unknown opcode, interruptible", badOp, Config[any]{Isolates: 1, Interruptible: true}, "code section, offset 28: function 0: instruction 0x27"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := New(context.Background(), c.wasm, c.cfg)
			if err == nil {
				p.Close(context.Background())
				t.Fatal("New accepted the module")
			}
			var fe *wasmbin.FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v (%T), want a FormatError containing %q", err, err, c.want)
			}
		})
	}
}

// TestCloseRacesHandoff: an isolate a Release hands to a caller waiting in
// Acquire is never counted idle by Close while it is in flight, so Close
// never closes the runtime under the caller. Every Acquire across a Close
// either gets ErrClosed or an isolate whose calls work to the end; a
// reload relies on this to send the waiters of the old module to the new
// one.
func TestCloseRacesHandoff(t *testing.T) {
	wasm := readWasm(t, "spin.wasm")
	for round := range 60 {
		p, err := New(context.Background(), wasm, Config[any]{Isolates: 1})
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg    sync.WaitGroup
			calls atomic.Int64
			bad   atomic.Value
		)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 200 {
					iso, err := p.Acquire(context.Background())
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil {
						bad.Store(err.Error())
						return
					}
					// Several calls: a runtime closed under the caller
					// shows as an error in one of them.
					for range 3 {
						if _, err := iso.Module.ExportedFunction("count").Call(context.Background()); err != nil {
							bad.Store(err.Error())
						}
					}
					calls.Add(1)
					p.Release(iso)
				}
			}()
		}
		for calls.Load() < 20 {
			runtime.Gosched()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = p.Close(ctx)
		cancel()
		wg.Wait()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if msg := bad.Load(); msg != nil {
			t.Fatalf("round %d: a caller got an isolate of a closed pool: %v", round, msg)
		}
		if n := p.Busy(); n != 0 {
			t.Fatalf("round %d: %d busy after Close", round, n)
		}
	}
}
