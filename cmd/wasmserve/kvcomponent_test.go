package main

import (
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/internal/testredis"
)

// TestKVComponentCounter: the JavaScript counter component
// (guest-examples/js-kv-counter, wasi:keyvalue) on a mem: store, from
// outside: 50 concurrent increments over fresh instances answer 1 to 50,
// each once, then one more answers 51.
func TestKVComponentCounter(t *testing.T) {
	t.Parallel()
	wasm := testguest.BuildComponent(t, "guest-examples/js-kv-counter")
	_, base, stderr := startServer(t, "--isolates", "4", "--queue-timeout", "0", "--kv-store", "default=mem:", wasm)
	checkDistinct(t, increments(t, 50, base))
	if code, body := do(t, "GET", base+"/count", nil); code != 200 || string(body) != "51" {
		t.Fatalf("the 51st increment: %d %q; stderr:\n%s", code, body, stderr)
	}
}

// TestKVComponentNoStore: a component whose server configures no store,
// or only others, gets error::no-such-store from open and answers with
// it; nothing traps.
func TestKVComponentNoStore(t *testing.T) {
	t.Parallel()
	wasm := testguest.BuildComponent(t, "guest-examples/js-kv-counter")
	for _, args := range [][]string{{wasm}, {"--kv-store", "other=mem:", wasm}} {
		_, base, stderr := startServer(t, args...)
		for range 2 {
			code, body := do(t, "GET", base+"/count", nil)
			if code != 503 || string(body) != "no key-value store: no-such-store\n" {
				t.Errorf("%v: GET /count: %d %q", args[:len(args)-1], code, body)
			}
		}
		if strings.Contains(stderr.String(), "trap") {
			t.Errorf("%v: a trap in the log:\n%s", args[:len(args)-1], stderr)
		}
	}
}

// TestKVComponentAndModuleShareRedis: a component (wasi:keyvalue) and a
// core module (wasmserve_kv), served by two processes on one Redis
// database, count in the same counter.
func TestKVComponentAndModuleShareRedis(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	wasm := testguest.BuildComponent(t, "guest-examples/js-kv-counter")
	core := testguest.Build(t, "kv-counter")
	store := []string{"--isolates", "2", "--queue-timeout", "0", "--kv-store", "default=" + srv.URL(0)}
	_, a, _ := startServer(t, append(store, wasm)...)
	_, b, _ := startServer(t, append(store, core)...)
	checkDistinct(t, increments(t, 60, a, b))
	if code, body := do(t, "GET", b+"/kv/count", nil); code != 200 || string(body) != "60" {
		t.Errorf("the core guest reads the count as %d %q, want 60", code, body)
	}
}
