package main

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/internal/testredis"
)

// do sends one request and returns its status and body.
func do(t *testing.T, method, url string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// increments sends n concurrent GET /count to the bases in turn and returns
// the counts they answered.
func increments(t *testing.T, n int, bases ...string) []int {
	t.Helper()
	counts := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := http.Get(bases[i%len(bases)] + "/count")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Errorf("GET /count: %d %s", resp.StatusCode, b)
				return
			}
			counts[i], err = strconv.Atoi(string(b))
			if err != nil {
				t.Errorf("GET /count answered %q", b)
			}
		})
	}
	wg.Wait()
	return counts
}

// checkDistinct fails unless counts are 1..len(counts), each once: every
// increment was atomic.
func checkDistinct(t *testing.T, counts []int) {
	t.Helper()
	sort.Ints(counts)
	for i, c := range counts {
		if c != i+1 {
			t.Fatalf("the %d increments answered %v…: not each of 1..%d once", len(counts), counts[:min(i+3, len(counts))], len(counts))
		}
	}
}

// TestKVCounterFile: the kv-counter example on a file: store, from outside.
// 200 concurrent increments over 4 isolates then one more answer 201; a
// 100 kB binary value round-trips byte for byte; DELETE then GET is 404;
// the count and the value survive a graceful restart and a SIGKILL after
// the writes were acknowledged.
func TestKVCounterFile(t *testing.T) {
	t.Parallel()
	guestWasm := testguest.Build(t, "kv-counter")
	db := filepath.Join(t.TempDir(), "kv.db")
	args := []string{"--isolates", "4", "--queue-timeout", "0", "--kv-store", "default=file:" + db, guestWasm}
	cmd, base, stderr := startServer(t, args...)

	checkDistinct(t, increments(t, 200, base))
	if code, body := do(t, "GET", base+"/count", nil); code != 200 || string(body) != "201" {
		t.Fatalf("the 201st increment: %d %q", code, body)
	}
	value := make([]byte, 100_000)
	rand.Read(value)
	if code, body := do(t, "PUT", base+"/kv/blob", value); code != 204 {
		t.Fatalf("PUT /kv/blob: %d %s", code, body)
	}
	if code, body := do(t, "GET", base+"/kv/blob", nil); code != 200 || !bytes.Equal(body, value) {
		t.Fatalf("GET /kv/blob: %d, %d bytes, equal %v", code, len(body), bytes.Equal(body, value))
	}
	do(t, "PUT", base+"/kv/gone", []byte("x"))
	if code, _ := do(t, "DELETE", base+"/kv/gone", nil); code != 204 {
		t.Fatalf("DELETE /kv/gone: %d", code)
	}
	if code, _ := do(t, "GET", base+"/kv/gone", nil); code != 404 {
		t.Fatalf("GET after DELETE: %d, want 404", code)
	}
	if code, _ := do(t, "DELETE", base+"/kv/gone", nil); code != 404 {
		t.Fatalf("second DELETE: %d, want 404", code)
	}

	// A graceful restart.
	cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, cmd, stderr); code != 0 {
		t.Fatalf("exit code %d after SIGTERM; stderr:\n%s", code, stderr)
	}
	cmd, base, _ = startServer(t, args...)
	if code, body := do(t, "GET", base+"/count", nil); code != 200 || string(body) != "202" {
		t.Fatalf("after a restart: %d %q, want 202", code, body)
	}

	// SIGKILL right after acknowledged writes: nothing is lost.
	if code, _ := do(t, "PUT", base+"/kv/last", []byte("acknowledged")); code != 204 {
		t.Fatalf("PUT /kv/last: %d", code)
	}
	do(t, "GET", base+"/count", nil) // 203
	cmd.Process.Kill()
	cmd.Wait()
	_, base, _ = startServer(t, args...)
	if code, body := do(t, "GET", base+"/count", nil); code != 200 || string(body) != "204" {
		t.Fatalf("after SIGKILL: %d %q, want 204", code, body)
	}
	if code, body := do(t, "GET", base+"/kv/last", nil); code != 200 || string(body) != "acknowledged" {
		t.Fatalf("GET /kv/last after SIGKILL: %d %q", code, body)
	}
	if code, body := do(t, "GET", base+"/kv/blob", nil); code != 200 || !bytes.Equal(body, value) {
		t.Fatalf("GET /kv/blob after SIGKILL: %d, %d bytes", code, len(body))
	}
}

// TestKVNoStore: a guest that opens a store the server does not configure
// gets an error it answers with; a guest of a server with other stores
// does not get one of them.
func TestKVNoStore(t *testing.T) {
	t.Parallel()
	guestWasm := testguest.Build(t, "kv-counter")
	for _, args := range [][]string{{guestWasm}, {"--kv-store", "other=mem:", guestWasm}} {
		_, base, _ := startServer(t, args...)
		code, body := do(t, "GET", base+"/count", nil)
		if code != 503 || !strings.Contains(string(body), `wasmserve_kv: no store: open: no store named "default" is configured (--kv-store NAME=URL)`) {
			t.Errorf("%v: GET /count: %d %q", args[:len(args)-1], code, body)
		}
	}
}

// TestKVRedisTwoProcesses: two wasmserve processes on one Redis see 100
// increments split between them as one count.
func TestKVRedisTwoProcesses(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	guestWasm := testguest.Build(t, "kv-counter")
	args := []string{"--isolates", "2", "--queue-timeout", "0", "--kv-store", "default=" + srv.URL(0), guestWasm}
	_, a, _ := startServer(t, args...)
	_, b, _ := startServer(t, args...)
	checkDistinct(t, increments(t, 100, a, b))
	for _, base := range []string{a, b} {
		if code, body := do(t, "GET", base+"/kv/count", nil); code != 200 || string(body) != "100" {
			t.Errorf("%s/kv/count: %d %q, want 100", base, code, body)
		}
	}
}

// TestKVRedisOutage: while the configured Redis is down, /readyz answers
// 503 naming the store and a guest gets an error within the handler
// timeout, not a hang; both heal by themselves once Redis is back.
func TestKVRedisOutage(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	guestWasm := testguest.Build(t, "kv-counter")
	_, base, stderr := startServer(t, "--admin", "127.0.0.1:0", "--isolates", "1", "--handler-timeout", "3s",
		"--kv-timeout", "1s", "--kv-store", "default="+srv.URL(0), guestWasm)
	admin := adminURL(t, stderr)
	if code, body := get(t, admin+"/readyz"); code != 200 {
		t.Fatalf("/readyz with Redis up: %d %s", code, body)
	}
	if code, body := do(t, "GET", base+"/count", nil); code != 200 || string(body) != "1" {
		t.Fatalf("GET /count: %d %q", code, body)
	}
	srv.Stop()
	code, body := get(t, admin+"/readyz")
	if code != 503 || !strings.Contains(body, `kv store "default" (`+srv.URL(0)+`) unreachable`) {
		t.Fatalf("/readyz with Redis down: %d %q", code, body)
	}
	start := time.Now()
	c, b := do(t, "GET", base+"/count", nil)
	if c != 503 || !strings.Contains(string(b), "wasmserve_kv: ") {
		t.Fatalf("GET /count with Redis down: %d %q, want 503 with the store's error", c, b)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("GET /count with Redis down took %s", d)
	}
	srv.Restart(t)
	testguest.WaitFor(t, "/readyz to answer 200 after Redis came back", func() bool {
		code, _ := get(t, admin+"/readyz")
		return code == 200
	})
	if code, body := do(t, "GET", base+"/count", nil); code != 200 || string(body) != "1" {
		t.Fatalf("GET /count after Redis came back (empty): %d %q", code, body)
	}
	if _, body := get(t, admin+"/metrics"); !strings.Contains(body, `wasmserve_kv_operations_total{op="increment",result="unavailable",store="default"} 1`) &&
		!strings.Contains(body, `wasmserve_kv_operations_total{op="increment",result="timeout",store="default"} 1`) {
		t.Errorf("no failed increment in the metrics:\n%s", grepLines(body, "wasmserve_kv_operations_total"))
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestKVFlagErrors: bad key-value flags get one line naming the flag.
func TestKVFlagErrors(t *testing.T) {
	t.Parallel()
	hello := testguest.Path("guest-examples/hello-wat/hello.wasm")
	held := filepath.Join(t.TempDir(), "held.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no equals", []string{"--kv-store", "default"}, `--kv-store "default": want NAME=URL`},
		{"bad name", []string{"--kv-store", "a b=mem:"}, `--kv-store "a b": a store name is 1 to 64 letters`},
		{"twice", []string{"--kv-store", "a=mem:", "--kv-store", "a=mem:"}, `--kv-store: store "a" is named twice`},
		{"bad scheme", []string{"--kv-store", "a=etcd://x"}, `kv store "a": store URL "etcd://x": unknown scheme "etcd"`},
		{"zero value", []string{"--kv-max-value", "0"}, "--kv-max-value must be above 0"},
		{"negative keys", []string{"--kv-max-keys", "-1"}, "--kv-max-keys must be 0 (no bound) or more, got -1"},
		{"file held", []string{"--kv-store", "a=file:" + held, "--kv-store", "b=file:" + held}, "is held open by another process, or another store of this one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runBinary(t, append(append([]string{"serve", "--port", "0"}, tt.args...), hello)...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("%v: exit %d, stderr:\n%s\nwant %q", tt.args, code, stderr, tt.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("more than one line:\n%s", stderr)
			}
		})
	}
}
