package wasip2

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/componenttest"
)

// guest is one instance of a fixture component from testdata, linked
// against a host Define made with a Config.
type guest struct {
	t    *testing.T
	c    *component.Component
	inst *component.Instance
}

func loadGuest(t *testing.T, fixture string, cfg Config) *guest {
	t.Helper()
	var h component.Host
	if err := Define(&h, cfg); err != nil {
		t.Fatal(err)
	}
	c, inst := componenttest.Load(t, filepath.Join("testdata", fixture+".wasm"), &h)
	return &guest{t: t, c: c, inst: inst}
}

// call calls an export with ctx and returns its results.
func (g *guest) callCtx(ctx context.Context, name string, args ...any) ([]any, error) {
	g.t.Helper()
	f, err := g.c.Func(name)
	if err != nil {
		g.t.Fatal(err)
	}
	return g.inst.Call(ctx, f, args...)
}

// call calls an export, failing the test on a trap, and returns its one
// result (nil for none).
func (g *guest) call(name string, args ...any) any {
	g.t.Helper()
	out, err := g.callCtx(context.Background(), name, args...)
	if err != nil {
		g.t.Fatalf("%s: %v", name, err)
	}
	if len(out) == 0 {
		return nil
	}
	return out[0]
}

// syncBuffer is a bytes.Buffer safe for a guest and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestGuestStdio(t *testing.T) {
	t.Parallel()
	t.Run("say writes to stdout", func(t *testing.T) {
		t.Parallel()
		var out, errOut syncBuffer
		g := loadGuest(t, "stdio", Config{Stdout: &out, Stderr: &errOut})
		if got := g.call("say", "hi"); got != "ok" {
			t.Fatalf("say answered %v", got)
		}
		if got := g.call("say", " there"); got != "ok" {
			t.Fatalf("say answered %v", got)
		}
		if out.String() != "hi there" {
			t.Fatalf("stdout got %q", out.String())
		}
		if errOut.String() != "" {
			t.Fatalf("stderr got %q", errOut.String())
		}
	})
	t.Run("shout writes to stderr", func(t *testing.T) {
		t.Parallel()
		var out, errOut syncBuffer
		g := loadGuest(t, "stdio", Config{Stdout: &out, Stderr: &errOut})
		if got := g.call("shout", "oops"); got != "ok" {
			t.Fatalf("shout answered %v", got)
		}
		if errOut.String() != "oops" || out.String() != "" {
			t.Fatalf("stderr got %q, stdout %q", errOut.String(), out.String())
		}
	})
	t.Run("no stdout discards", func(t *testing.T) {
		t.Parallel()
		g := loadGuest(t, "stdio", Config{})
		if got := g.call("say", "into the void"); got != "ok" {
			t.Fatalf("say answered %v", got)
		}
	})
	t.Run("a failing writer is last-operation-failed, then closed", func(t *testing.T) {
		t.Parallel()
		g := loadGuest(t, "stdio", Config{Stdout: failingWriter{}})
		if got := g.call("say", "hi"); got != "disk on fire" {
			t.Fatalf("say answered %v", got)
		}
	})
	t.Run("echo copies stdin to stdout", func(t *testing.T) {
		t.Parallel()
		in := strings.Repeat("0123456789", 20000) // past the read-ahead buffer
		var out syncBuffer
		g := loadGuest(t, "stdio", Config{Stdin: strings.NewReader(in), Stdout: &out})
		if got := g.call("echo"); got != uint32(len(in)) {
			t.Fatalf("echo answered %v, want %d", got, len(in))
		}
		if out.String() != in {
			t.Fatalf("stdout got %d bytes, want %d", len(out.String()), len(in))
		}
	})
	t.Run("no stdin is empty", func(t *testing.T) {
		t.Parallel()
		var out syncBuffer
		g := loadGuest(t, "stdio", Config{Stdout: &out})
		if got := g.call("echo"); got != uint32(0) {
			t.Fatalf("echo answered %v", got)
		}
	})
	t.Run("per-instance state replaces the config", func(t *testing.T) {
		t.Parallel()
		var hostOut, instOut syncBuffer
		g := loadGuest(t, "stdio", Config{Stdout: &hostOut})
		g.inst.Data = stateData{&State{Stdin: strings.NewReader("mine"), Stdout: &instOut}}
		if got := g.call("echo"); got != uint32(4) {
			t.Fatalf("echo answered %v", got)
		}
		if instOut.String() != "mine" || hostOut.String() != "" {
			t.Fatalf("instance stdout got %q, host stdout %q", instOut.String(), hostOut.String())
		}
	})
}

func TestGuestBlockedReadIsInterrupted(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	defer pw.Close()
	g := loadGuest(t, "stdio", Config{Stdin: pr})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for !g.blocked() {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := g.callCtx(ctx, "echo"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled blocking-read gave %v", err)
	}
}

type stateData struct{ s *State }

func (d stateData) WASIState() *State { return d.s }

var _ io.Writer = (*syncBuffer)(nil)

func runtimeStack(buf []byte) int { return runtime.Stack(buf, true) }
