package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host"
	"github.com/wasmserve/wasmserve/host/ext"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// serve serves the module at path with the extension of cfg, in process.
func serve(t *testing.T, path string, cfg Config) (*httptest.Server, *Extension) {
	t.Helper()
	ctx := context.Background()
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(ctx) })
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.NewHandler(ctx, wasm, host.HandlerConfig{Isolates: 2, HandlerTimeout: 30 * time.Second,
		CacheDir: testguest.CacheDir(t), Extensions: []ext.Extension{e}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, e
}

// sdkOp is an operation of testdata/sdkguest, and sdkResult its answer.
type sdkOp struct {
	Store  string `json:"store"`
	Op     string `json:"op"`
	Key    string `json:"key,omitempty"`
	Value  []byte `json:"value,omitempty"`
	Old    []byte `json:"old"`
	TTLMs  int64  `json:"ttl_ms,omitempty"`
	Delta  int64  `json:"delta,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Cursor string `json:"cursor,omitempty"`
}

type sdkResult struct {
	Value    []byte   `json:"value"`
	OK       bool     `json:"ok"`
	N        int64    `json:"n"`
	Keys     []string `json:"keys"`
	Next     string   `json:"next"`
	Err      string   `json:"err"`
	Code     int32    `json:"code"`
	NotFound bool     `json:"not_found"`
}

// run sends o to the guest.
func run(t *testing.T, url string, o sdkOp) sdkResult {
	t.Helper()
	if o.Store == "" {
		o.Store = "default"
	}
	body, _ := json.Marshal(o)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%+v: %d %s", o, resp.StatusCode, b)
	}
	var r sdkResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return r
}

// TestSDK: the Go SDK over every backend, as a guest uses it.
func TestSDK(t *testing.T) {
	t.Parallel()
	wasm := testguest.BuildPackage(t, "host/ext/kv/testdata/sdkguest")
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			url := storeURL(t, b)
			srv, _ := serve(t, wasm, Config{Stores: []StoreConfig{{"default", url}}, MaxValue: 300_000})
			u := srv.URL

			if r := run(t, u, sdkOp{Op: "get", Key: "absent"}); !r.NotFound || r.Code != -1 {
				t.Fatalf("get of an absent key: %+v", r)
			}
			big := make([]byte, 200_000)
			for i := range big {
				big[i] = byte(i % 251)
			}
			if r := run(t, u, sdkOp{Op: "set", Key: "big", Value: big}); r.Err != "" {
				t.Fatal(r.Err)
			}
			if r := run(t, u, sdkOp{Op: "get", Key: "big"}); !bytes.Equal(r.Value, big) {
				t.Fatalf("a 200 kB value came back as %d bytes (%s)", len(r.Value), r.Err)
			}
			if r := run(t, u, sdkOp{Op: "set", Key: "big", Value: make([]byte, 300_001)}); r.Code != -4 || !strings.Contains(r.Err, "wasmserve_kv: too big: ") {
				t.Fatalf("a value over the largest: %+v", r.Err)
			}
			if r := run(t, u, sdkOp{Op: "exists", Key: "big"}); !r.OK {
				t.Fatalf("exists: %+v", r)
			}
			if r := run(t, u, sdkOp{Op: "delete", Key: "big"}); !r.OK {
				t.Fatalf("delete: %+v", r)
			}
			if r := run(t, u, sdkOp{Op: "delete", Key: "big"}); r.OK || r.Err != "" {
				t.Fatalf("second delete: %+v", r)
			}
			if r := run(t, u, sdkOp{Op: "exists", Key: "big"}); r.OK || r.Err != "" {
				t.Fatalf("exists after delete: %+v", r)
			}

			if r := run(t, u, sdkOp{Op: "increment", Key: "n", Delta: 5}); r.N != 5 {
				t.Fatalf("increment: %+v", r)
			}
			if r := run(t, u, sdkOp{Op: "increment", Key: "n", Delta: -7}); r.N != -2 {
				t.Fatalf("increment by -7: %+v", r)
			}
			if r := run(t, u, sdkOp{Op: "get", Key: "n"}); string(r.Value) != "-2" {
				t.Fatalf("the counter's value: %q", r.Value)
			}

			// CompareAndSwap: nil old is "absent", []byte{} the empty value.
			steps := []struct {
				old   []byte
				value string
				want  bool
			}{
				{nil, "", true}, {nil, "x", false}, {[]byte("y"), "x", false}, {[]byte{}, "x", true}, {[]byte("x"), "z", true},
			}
			for i, s := range steps {
				if r := run(t, u, sdkOp{Op: "cas", Key: "c", Old: s.old, Value: []byte(s.value)}); r.OK != s.want || r.Err != "" {
					t.Fatalf("swap %d (old %q): %+v, want %v", i, s.old, r, s.want)
				}
			}
			if r := run(t, u, sdkOp{Op: "get", Key: "c"}); string(r.Value) != "z" {
				t.Fatalf("after the swaps: %q", r.Value)
			}

			// Keys, page by page.
			for i := range 250 {
				if r := run(t, u, sdkOp{Op: "set", Key: fmt.Sprintf("p:%03d", i), Value: []byte("v")}); r.Err != "" {
					t.Fatal(r.Err)
				}
			}
			seen := map[string]bool{}
			cursor, pages := "", 0
			for ; pages < 1000; pages++ {
				r := run(t, u, sdkOp{Op: "keys", Prefix: "p:", Cursor: cursor})
				if r.Err != "" {
					t.Fatal(r.Err)
				}
				if b.ordered && len(r.Keys) > 100 {
					t.Fatalf("a page of %d keys", len(r.Keys))
				}
				for _, k := range r.Keys {
					if b.ordered && seen[k] {
						t.Fatalf("%s listed twice", k)
					}
					seen[k] = true
				}
				if r.Next == "" {
					break
				}
				cursor = r.Next
			}
			if len(seen) != 250 {
				t.Fatalf("the listing saw %d keys of 250", len(seen))
			}
			if b.ordered && pages != 2 {
				t.Fatalf("250 keys in %d pages, want 3", pages+1)
			}

			if r := run(t, u, sdkOp{Op: "set", Key: "ttl", Value: []byte("v"), TTLMs: 50}); r.Err != "" {
				t.Fatal(r.Err)
			}
			testguest.WaitFor(t, "a value with a 50ms TTL to expire", func() bool {
				return run(t, u, sdkOp{Op: "get", Key: "ttl"}).NotFound
			})

			if r := run(t, u, sdkOp{Store: "nope", Op: "get", Key: "k"}); r.Code != -2 || r.Err != `wasmserve_kv: no store: open: no store named "nope" is configured (--kv-store NAME=URL)` {
				t.Fatalf("a store not configured: %+v", r)
			}
			if r := run(t, u, sdkOp{Op: "get", Key: ""}); r.Code != -3 || !strings.Contains(r.Err, "empty key") {
				t.Fatalf("an empty key: %+v", r)
			}
			if r := run(t, u, sdkOp{Op: "increment", Key: "c", Delta: 1}); r.Code != -7 {
				t.Fatalf("increment of text: %+v", r)
			}
		})
	}
}

// storeURL returns the URL of a fresh store of backend b.
func storeURL(t *testing.T, b backend) string {
	switch b.name {
	case "mem":
		return "mem:"
	case "file":
		return "file:" + filepath.Join(t.TempDir(), "kv.db")
	}
	srv := sharedRedis(t)
	db := <-redisDBs
	s, err := OpenRedis(srv.URL(db), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	t.Cleanup(func() { redisDBs <- db })
	return srv.URL(db)
}

// TestCHeader: a C guest built with abi/c/wasmserve_kv.h counts. Skipped
// where clang cannot build for wasm32-wasi (Debian: clang lld wasi-libc
// libclang-rt-14-dev-wasm32).
func TestCHeader(t *testing.T) {
	t.Parallel()
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang is not installed: skipping the C header's test")
	}
	wasm := filepath.Join(t.TempDir(), "counter.wasm")
	out, err := exec.Command(clang, "--target=wasm32-wasi", "-O2", "-mexec-model=reactor", "-I", testguest.Path("abi/c"),
		"-o", wasm, testguest.Path("host/ext/kv/testdata/cguest/counter.c")).CombinedOutput()
	if err != nil {
		if bytes.Contains(out, []byte("not found")) || bytes.Contains(out, []byte("No such file")) || bytes.Contains(out, []byte("unable to")) {
			t.Skipf("clang cannot build for wasm32-wasi here: %s", out)
		}
		t.Fatalf("clang: %v\n%s", err, out)
	}
	srv, _ := serve(t, wasm, Config{Stores: []StoreConfig{{"default", "mem:"}}})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "21" {
		t.Fatalf("the 21st request: %d %q", resp.StatusCode, b)
	}

	// Without the store it answers the host's message.
	srv, _ = serve(t, wasm, Config{})
	resp, err = http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(b), `no store named "default"`) {
		t.Fatalf("without a store: %d %q", resp.StatusCode, b)
	}
}

// TestResetIsolates: with every isolate retired after each request (reset
// to its state after start where the module allows it, else replaced), the
// store opened in the start function stays open and the count goes on.
func TestResetIsolates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := New(Config{Stores: []StoreConfig{{"default", "mem:"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	wasm, err := os.ReadFile(testguest.Build(t, "kv-counter"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.NewHandler(ctx, wasm, host.HandlerConfig{Isolates: 2, MaxRequestsPerIsolate: 1,
		CacheDir: testguest.CacheDir(t), Extensions: []ext.Extension{e}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	for i := 1; i <= 10; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/count", nil))
		if w.Code != 200 || w.Body.String() != fmt.Sprint(i) {
			t.Fatalf("request %d: %d %q", i, w.Code, w.Body)
		}
	}
}
