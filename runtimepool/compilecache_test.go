package runtimepool

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// executableSpan returns where the native code lies in a wazero cache
// entry: after the magic "WAZEVO", the version's length and the version,
// the function count (4 bytes), an offset per function (8 bytes each) and
// the code's length (8 bytes); its CRC-32C follows it.
func executableSpan(t *testing.T, b []byte) (start, n int) {
	t.Helper()
	if len(b) < 7 || string(b[:6]) != "WAZEVO" {
		t.Fatalf("a compilation cache entry does not start with WAZEVO: % x", b[:min(len(b), 16)])
	}
	count := 7 + int(b[6])
	if len(b) < count+4 {
		t.Fatalf("a compilation cache entry of %d bytes ends in its header", len(b))
	}
	lenAt := count + 4 + 8*int(binary.LittleEndian.Uint32(b[count:]))
	if len(b) < lenAt+8 {
		t.Fatalf("a compilation cache entry of %d bytes ends before its code", len(b))
	}
	start, n = lenAt+8, int(binary.LittleEndian.Uint64(b[lenAt:]))
	if n == 0 || len(b) < start+n+4 {
		t.Fatalf("a compilation cache entry of %d bytes holds %d bytes of code at %d", len(b), n, start)
	}
	return start, n
}

// TestCompileCacheRepair: a damaged entry of wazero's on-disk cache is
// replaced and the module served as it would be with a whole one (rewritten
// for interrupts, not the close-on-context-done fallback), with a warning
// naming the entry; the next start reads the rebuilt entry.
func TestCompileCacheRepair(t *testing.T) {
	t.Parallel()
	wasm := readWasm(t, "spin.wasm")
	cases := []struct {
		name   string
		damage func(t *testing.T, b []byte) []byte
	}{
		{"truncated", func(_ *testing.T, b []byte) []byte { return b[:len(b)/2] }},
		{"zeroed", func(_ *testing.T, b []byte) []byte { return make([]byte, len(b)) }},
		{"bit-flipped", func(t *testing.T, b []byte) []byte {
			start, n := executableSpan(t, b)
			b[start+n/2] ^= 0x10
			return b
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			start := func(want string) (*Pool[any], string) {
				t.Helper()
				var log bytes.Buffer
				p, err := New(context.Background(), wasm, Config[any]{Isolates: 1, Interruptible: true, CacheDir: dir,
					Logger: slog.New(slog.NewTextHandler(&log, nil))})
				if err != nil {
					t.Fatalf("%s start: %v", want, err)
				}
				t.Cleanup(func() { p.Close(context.Background()) })
				if st := p.Stats(); st.Interrupt != InterruptGlobal {
					t.Errorf("%s start: interrupt mode %s, want %s; log:\n%s", want, st.Interrupt, InterruptGlobal, log.String())
				}
				return p, log.String()
			}

			first, _ := start("first")
			if first.Stats().CacheHit {
				t.Fatal("first start: a cache hit on an empty cache")
			}
			first.Close(context.Background())
			entries, _ := filepath.Glob(filepath.Join(dir, "wazero-*", "*"))
			if len(entries) == 0 {
				t.Fatalf("no compilation cache entry in %s", dir)
			}
			for _, e := range entries {
				b, err := os.ReadFile(e)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(e, c.damage(t, b), 0o600); err != nil {
					t.Fatal(err)
				}
			}

			second, log := start("repairing")
			if second.Stats().CacheHit {
				t.Error("repairing start: reported a cache hit")
			}
			for _, e := range entries {
				if !strings.Contains(log, e) || !strings.Contains(log, "rebuilt") {
					t.Errorf("repairing start: the log does not name the rebuilt entry %s:\n%s", e, log)
				}
			}
			iso, err := second.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n, err := call(t, context.Background(), iso, "count"); n != 1 || err != nil {
				t.Errorf("repairing start: count returned %d, %v; want 1", n, err)
			}
			second.Release(iso)
			if left, _ := filepath.Glob(filepath.Join(dir, ".wasmserve-rebuild-*")); len(left) != 0 {
				t.Errorf("repairing start: left %v behind", left)
			}

			third, log := start("third")
			if !third.Stats().CacheHit {
				t.Error("third start: not a cache hit")
			}
			if strings.Contains(log, "level=WARN") {
				t.Errorf("third start: a warning:\n%s", log)
			}
		})
	}
}

// TestCompileCacheRepairLeavesOthers: a module that wazero refuses in any
// cache is an error as before, and no entry of the cache is touched.
func TestCompileCacheRepairLeavesOthers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p, err := New(context.Background(), readWasm(t, "spin.wasm"), Config[any]{Isolates: 1, CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	p.Close(context.Background())
	before := countFiles(dir)
	// A well-formed module that fails validation: i32.add of nothing.
	invalid := module(typeNop, funcNop, mem1, sec(10, 1, 3, 0, 0x6a, 0x0B))
	var log testguest.SyncBuffer
	p, err = New(context.Background(), invalid, Config[any]{Isolates: 1, CacheDir: dir,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err == nil {
		p.Close(context.Background())
		t.Fatal("New accepted an invalid module")
	}
	if !strings.Contains(err.Error(), "compiling module") {
		t.Errorf("error %v, want one compiling the module", err)
	}
	if strings.Contains(log.String(), "rebuilt") || countFiles(dir) != before {
		t.Errorf("the cache changed for a module that does not compile: %d files, was %d; log:\n%s", countFiles(dir), before, log.String())
	}
}
