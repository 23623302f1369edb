package wasip2

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

func TestGuestClocks(t *testing.T) {
	t.Parallel()
	g := loadGuest(t, "basics", Config{Now: func() time.Time { return time.Unix(1700000000, 5) }})
	a := g.call("now").(uint64)
	b := g.call("now").(uint64)
	if b < a {
		t.Fatalf("monotonic now went back: %d then %d", a, b)
	}
	const d = uint64(2 * time.Millisecond)
	start := g.call("now").(uint64)
	if after := g.call("sleep", d).(uint64); after-start < d {
		t.Fatalf("sleep of %d ns returned after %d ns", d, after-start)
	}
	start = g.call("now").(uint64)
	if after := g.call("at", start+d).(uint64); after < start+d {
		t.Fatalf("block until instant %d returned at %d", start+d, after)
	}
	if after := g.call("at", uint64(0)).(uint64); after == 0 {
		t.Fatal("an instant in the past blocked oddly")
	}
	if g.call("ready-after", uint64(0)) != true {
		t.Fatal("a timer of 0 ns is not ready at once")
	}
	if g.call("ready-after", uint64(time.Hour)) != false {
		t.Fatal("a timer of an hour is ready at once")
	}
	if got := g.call("wall-seconds"); got != uint64(1700000000) {
		t.Fatalf("wall-clock now gave %v seconds", got)
	}
}

func TestGuestPoll(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		a, b uint64
		want []any
	}{
		{"first ready", 0, uint64(time.Hour), []any{uint32(0)}},
		{"second ready", uint64(time.Hour), 0, []any{uint32(1)}},
		{"both ready", 0, 0, []any{uint32(0), uint32(1)}},
		{"waits for the sooner", uint64(time.Millisecond), uint64(time.Hour), []any{uint32(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := loadGuest(t, "basics", Config{})
			if got := g.call("poll2", tc.a, tc.b); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("poll answered %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("an empty list traps", func(t *testing.T) {
		t.Parallel()
		g := loadGuest(t, "basics", Config{})
		if _, err := g.callCtx(context.Background(), "poll-none"); err == nil {
			t.Fatal("poll of no pollables did not trap")
		}
	})
}

func TestGuestBlockedIsInterrupted(t *testing.T) {
	t.Parallel()
	for _, export := range []string{"sleep", "poll2"} {
		t.Run(export, func(t *testing.T) {
			t.Parallel()
			g := loadGuest(t, "basics", Config{})
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				// Cancel once the guest is blocked: the clock it reads
				// has moved past its start.
				for !g.blocked() {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			args := []any{uint64(time.Hour)}
			if export == "poll2" {
				args = append(args, uint64(time.Hour))
			}
			_, err := g.callCtx(ctx, export, args...)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("a cancelled wait gave %v", err)
			}
			if g.inst.Broken() == nil {
				t.Fatal("the instance is not broken by the trap")
			}
		})
	}
}

// blocked reports whether some goroutine waits in this package's Wait or
// Poll: the guest is blocked in the host.
func (g *guest) blocked() bool {
	buf := make([]byte, 1<<20)
	n := runtimeStack(buf)
	return bytes.Contains(buf[:n], []byte("wasip2.Wait(")) || bytes.Contains(buf[:n], []byte("wasip2.Poll("))
}

func TestGuestRandom(t *testing.T) {
	t.Parallel()
	g := loadGuest(t, "basics", Config{Random: bytes.NewReader(bytes.Repeat([]byte{7}, 1000))})
	for _, export := range []string{"random", "insecure"} {
		for _, n := range []uint64{0, 1, 13, 300} {
			b, ok := g.call(export, n).([]byte)
			if !ok || uint64(len(b)) != n {
				t.Fatalf("%s(%d) gave %d bytes", export, n, len(b))
			}
		}
	}
	// The seed took 16 bytes of the source; random bytes come from it.
	if b := g.call("random", uint64(4)).([]byte); !bytes.Equal(b, []byte{7, 7, 7, 7}) {
		t.Fatalf("random bytes %v are not from Config.Random", b)
	}
	if got := g.call("random-u64"); got != uint64(0x0707070707070707) {
		t.Fatalf("random u64 %x is not from Config.Random", got)
	}
	seed := g.call("seed").([]any)
	if len(seed) != 2 || seed[0] != uint64(0x0707070707070707) {
		t.Fatalf("seed %v", seed)
	}
	if _, err := g.callCtx(context.Background(), "random", uint64(MaxRandomBytes+1)); err == nil {
		t.Fatal("asking for more than MaxRandomBytes did not trap")
	}
}

func TestGuestEnvironment(t *testing.T) {
	t.Parallel()
	g := loadGuest(t, "basics", Config{Env: []string{"A=1", "B=x=y", "C"}, Args: []string{"app", "--v"}})
	want := []any{[]any{"A", "1"}, []any{"B", "x=y"}, []any{"C", ""}}
	if got := g.call("env"); !reflect.DeepEqual(got, want) {
		t.Fatalf("environment %v, want %v", got, want)
	}
	if got := g.call("args"); !reflect.DeepEqual(got, []any{"app", "--v"}) {
		t.Fatalf("arguments %v", got)
	}
	if got := g.call("cwd"); got != (cabi.Option{}) {
		t.Fatalf("initial-cwd %v", got)
	}
	empty := loadGuest(t, "basics", Config{})
	if got := empty.call("env"); !reflect.DeepEqual(got, []any{}) {
		t.Fatalf("no environment gave %#v", got)
	}
}

func TestGuestExit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		export string
		arg    any
		code   uint32
	}{
		{"quit", false, 0},
		{"quit", true, 1},
		{"quit-code", uint8(3), 3},
	} {
		g := loadGuest(t, "basics", Config{})
		_, err := g.callCtx(context.Background(), tc.export, tc.arg)
		var exit *ExitError
		if !errors.As(err, &exit) || exit.Code != tc.code {
			t.Fatalf("%s(%v) gave %v, want exit status %d", tc.export, tc.arg, err, tc.code)
		}
	}
}
