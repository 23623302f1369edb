package runtimepool

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/sys"
)

// stdio is a per-isolate value whose stdin each use sets.
type stdio struct {
	in  io.Reader
	out bytes.Buffer
}

func (s *stdio) Read(p []byte) (int, error) { return s.in.Read(p) }

// TestNoStartStdio: an isolate made with NoStart has not run _start; the
// caller runs it as an export with the streams Stdio gave the isolate; a
// guest that exits (proc_exit closes its module) is retired on Release,
// not handed out again.
func TestNoStartStdio(t *testing.T) {
	cfg := Config[*stdio]{
		Isolates: 1,
		NoStart:  true,
		Prepare:  func(ctx context.Context, _ string) (context.Context, *stdio) { return ctx, &stdio{} },
		Stdio:    func(s *stdio) (io.Reader, io.Writer, io.Writer) { return s, &s.out, nil },
	}
	p, err := New(context.Background(), readWasm(t, "command.wasm"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	if s := p.Stats().StartFunction; s != "" {
		t.Errorf("StartFunction %q, want none", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := map[string]bool{}
	run := func(in string) (*Isolate[*stdio], error) {
		iso, err := p.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if runs := iso.Module.ExportedGlobal("runs").Get(); !seen[iso.ID] && runs != 0 {
			t.Errorf("isolate %s: _start ran %d times before its first use", iso.ID, runs)
		}
		seen[iso.ID] = true
		iso.Value.in = strings.NewReader(in)
		iso.Value.out.Reset()
		_, err = iso.Module.ExportedFunction("_start").Call(ctx)
		return iso, err
	}

	iso, err := run("hello, stdin")
	if err != nil || iso.Value.out.String() != "hello, stdin" {
		t.Fatalf("_start: %v, stdout %q", err, iso.Value.out.String())
	}
	first := iso.ID
	p.Release(iso)

	iso, err = run("xit")
	var exit *sys.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 0 || !iso.Module.IsClosed() {
		t.Fatalf("_start: %v, want exit 0 and a closed module", err)
	}
	if iso.ID != first {
		t.Errorf("second use on %s, want %s again", iso.ID, first)
	}
	p.Release(iso)
	iso, err = run("again")
	if err != nil || iso.ID == first || iso.Value.out.String() != "again" {
		t.Errorf("after the exit: isolate %s (first %s), %v, stdout %q", iso.ID, first, err, iso.Value.out.String())
	}
	p.Release(iso)
	if p.Retired() != 1 {
		t.Errorf("retired %d, want 1", p.Retired())
	}
}
