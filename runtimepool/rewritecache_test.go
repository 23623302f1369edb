package runtimepool

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/wasmserve/wasmserve/internal/wasmprep"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// entry encodes a cache entry: the module, the info as JSON, the JSON's
// length and the CRC-32C of all three.
func entry(out []byte, info wasmprep.Info) []byte {
	meta, _ := json.Marshal(info)
	b := append(append([]byte(nil), out...), meta...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(meta)))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// pad is a custom section that makes a module large enough for its rewrite
// to be cached.
var pad = sec(0, append([]byte{3, 'p', 'a', 'd'}, make([]byte, minCachedRewrite)...)...)

// bigSpin is spin.wasm made large enough for its rewrite to be cached.
func bigSpin(t *testing.T) []byte {
	t.Helper()
	return append(readWasm(t, "spin.wasm"), pad...)
}

// parse parses wasm, failing the test if it cannot.
func parse(t *testing.T, wasm []byte) *wasmprep.Module {
	t.Helper()
	mod, err := wasmprep.Parse(wasm)
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

// TestRewriteCached: the first call rewrites and stores, later calls read
// what is stored, damaged entries are replaced, refusals are not stored, and
// a cache that cannot be written still yields the rewrite; small modules
// are only rewritten.
func TestRewriteCached(t *testing.T) {
	spin := bigSpin(t)
	want, info, err := parse(t, spin).Rewrite(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Globals) != 1 {
		t.Fatalf("spin.wasm's rewrite exports %v, want its one mutable global", info.Globals)
	}
	small := readWasm(t, "spin.wasm")
	wantSmall, _, err := parse(t, small).Rewrite(true)
	if err != nil {
		t.Fatal(err)
	}
	// A valid entry other than the rewrite: getting it back shows that
	// the cache was read rather than the module rewritten again.
	planted := []byte("\x00asm planted")
	plantedInfo := wasmprep.Info{Globals: []string{"g"}, ResetBlocker: "planted"}
	noMemory := module(typeNop, funcNop, sec(10, 1, 2, 0, 0x0B), pad)
	cases := []struct {
		name    string
		wasm    []byte
		stored  []byte // the entry there before the call; nil for none
		want    []byte // nil: the call fails
		info    wasmprep.Info
		entry   []byte // the entry after the call; nil for none
		badPath bool   // the cache directory is a regular file
	}{
		{name: "miss stores the rewrite", wasm: spin, want: want, info: info, entry: entry(want, info)},
		{name: "hit reads the entry", wasm: spin, stored: entry(planted, plantedInfo), want: planted, info: plantedInfo,
			entry: entry(planted, plantedInfo)},
		{name: "damaged entry is replaced", wasm: spin, stored: append(entry(want, info)[:20], 1, 2, 3, 4), want: want, info: info,
			entry: entry(want, info)},
		{name: "entry shorter than its checksum", wasm: spin, stored: []byte{1, 2}, want: want, info: info, entry: entry(want, info)},
		{name: "info length beyond the entry", wasm: spin, stored: func() []byte {
			b := binary.LittleEndian.AppendUint32([]byte("\x00asm"), 99)
			return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
		}(), want: want, info: info, entry: entry(want, info)},
		{name: "refusal is not stored", wasm: noMemory},
		{name: "small module is not stored", wasm: small, want: wantSmall, info: info},
		{name: "small module is not looked up", wasm: small, stored: entry(planted, plantedInfo), want: wantSmall, info: info,
			entry: entry(planted, plantedInfo)},
		{name: "unwritable cache", wasm: spin, want: want, info: info, badPath: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.badPath {
				dir = filepath.Join(dir, "file")
				if err := os.WriteFile(dir, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			path := rewritePath(dir, parse(t, c.wasm), true)
			if c.stored != nil {
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, c.stored, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, gotInfo, err := rewriteCached(dir, parse(t, c.wasm), true, slog.New(slog.DiscardHandler))
			switch {
			case c.want == nil && err == nil:
				t.Fatal("no error for a module the rewriter refuses")
			case c.want != nil && err != nil:
				t.Fatal(err)
			case !bytes.Equal(got, c.want):
				t.Fatalf("got %d bytes, want %d", len(got), len(c.want))
			case !reflect.DeepEqual(gotInfo, c.info):
				t.Fatalf("info %+v, want %+v", gotInfo, c.info)
			}
			stored, err := os.ReadFile(path)
			if c.entry == nil {
				if err == nil {
					t.Fatalf("an entry of %d bytes was stored", len(stored))
				}
				return
			}
			if !bytes.Equal(stored, c.entry) {
				t.Fatalf("stored %d bytes, want %d", len(stored), len(c.entry))
			}
			if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp")); len(tmp) > 0 {
				t.Errorf("temporary files left behind: %v", tmp)
			}
		})
	}
}

// TestNewRewriteCache: a pool made twice over one cache directory rewrites
// once, and the second pool's isolates are interruptible all the same.
func TestNewRewriteCache(t *testing.T) {
	dir := t.TempDir()
	wasm := bigSpin(t)
	for i := range 2 {
		p, err := New(context.Background(), wasm, Config[any]{Isolates: 1, Interruptible: true, CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if m := p.InterruptMode(); m != InterruptGlobal {
			t.Fatalf("pool %d: interrupt mode %s, want global", i, m)
		}
		iso, err := p.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		p.InterruptAll()
		if _, err := call(t, context.Background(), iso, "nop"); err == nil {
			t.Errorf("pool %d: a call ran after InterruptAll", i)
		}
		p.Discard(iso, nil)
		p.Close(context.Background())
	}
	entries, err := os.ReadDir(filepath.Join(dir, rewriteDir))
	if err != nil || len(entries) != 1 {
		t.Fatalf("%d entries in the rewrite cache (%v), want 1", len(entries), err)
	}
}
