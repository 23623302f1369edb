package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// startConfig serves wasm with cfg on 127.0.0.1 at an ephemeral port and
// returns the base URL, the handler and its log.
func startConfig(t *testing.T, wasm []byte, cfg HandlerConfig, sc server.Config) (string, *Handler, *testguest.SyncBuffer) {
	t.Helper()
	logs := new(testguest.SyncBuffer)
	cfg.CacheDir = testguest.CacheDir(t)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := NewHandler(context.Background(), wasm, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sc.Address = "127.0.0.1"
	srv := server.NewServer(sc, h)
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := h.Close(ctx); err != nil {
			t.Errorf("closing handler: %v", err)
		}
	})
	return "http://" + srv.Addr().String(), h, logs
}

// fetch does one request and returns the status and body.
func fetch(t *testing.T, method, url string, body io.Reader) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// waitFull waits, up to a generous bound, until every isolate is idle again.
func waitFull(t *testing.T, h *Handler) {
	t.Helper()
	testguest.WaitFor(t, "the pool to be back to full size", func() bool { return h.Pool().Idle() == h.Pool().Size() })
}

// genericBody is the only body a fault may answer with.
var genericBody = regexp.MustCompile(`^(500 handler error|504 handler timeout|413 request body too large) \(request id [0-9a-f]{16}\)\n$`)

func faultsWasm(t *testing.T) []byte { return readFile(t, "host/testdata/faults.wasm") }

// TestGuestFaults: every hostile behaviour gets its status and a generic
// body, the pool refills, and good requests interleaved with more faults all
// succeed.
func TestGuestFaults(t *testing.T) {
	const limitPages = 8
	cfg := withHTTPWasm(HandlerConfig{
		Isolates:    2,
		MemoryLimit: limitPages << 16,
		// Generous: running into the stack limit takes over a second
		// under the race detector.
		HandlerTimeout: 30 * time.Second,
	}, httpwasm.Config{GuestConfig: []byte("config")})
	base, h, logs := startConfig(t, faultsWasm(t), cfg, server.Config{})
	// The loop case gets a server of its own with a short timeout.
	cfg.HandlerTimeout = 300 * time.Millisecond
	loopBase, loopH, loopLogs := startConfig(t, faultsWasm(t), cfg, server.Config{})
	cases := []struct {
		name, path string
		want       int
	}{
		{"trap", "/trap", 500},
		{"infinite loop", "/loop", 504},
		{"unbounded memory growth", "/grow", 500},
		{"growth stops at the limit", "/pages", 200 + limitPages},
		{"unbounded recursion", "/recurse", 500},
		{"proc_exit", "/exit", 500},
	}
	for fn, c := range map[byte]string{
		'a': "get_config", 'b': "log", 'c': "get_method", 'd': "set_method", 'e': "get_uri",
		'f': "set_uri", 'g': "get_protocol_version", 'h': "get_source_addr", 'i': "get_header_names",
		'j': "get_header_values", 'k': "set_header_value", 'l': "add_header_value",
		'm': "remove_header", 'n': "read_body", 'o': "write_body",
	} {
		want := 500
		if c == "log" {
			want = 200 // log never traps: it logs a placeholder instead
		}
		cases = append(cases, struct {
			name, path string
			want       int
		}{"out-of-range pointer to " + c, "/bad/" + string(fn), want})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base, h, logs := base, h, logs
			if c.path == "/loop" {
				base, h, logs = loopBase, loopH, loopLogs
			}
			code, body, hdr := fetch(t, "GET", base+c.path, nil)
			if code != c.want {
				t.Fatalf("GET %s: status %d, want %d (body %q)", c.path, code, c.want, body)
			}
			if code >= 500 {
				if !genericBody.MatchString(body) {
					t.Errorf("GET %s: body %q is not a generic error", c.path, body)
				}
				id := hdr.Get("X-Request-Id")
				if id == "" || !strings.Contains(body, id) || !strings.Contains(logs.String(), "request_id="+id) {
					t.Errorf("GET %s: request id %q missing from body or log", c.path, id)
				}
			}
			waitFull(t, h)
			var wg sync.WaitGroup
			for i := range 100 {
				if i%10 == 0 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						http.Get(base + c.path)
					}()
				}
				path := fmt.Sprintf("/ok?i=%d", i)
				if code, body, _ := fetch(t, "GET", base+path, nil); code != 200 || body != "ok:"+path {
					t.Fatalf("good request %d after %s: %d %q", i, c.path, code, body)
				}
			}
			wg.Wait()
			waitFull(t, h)
		})
	}
	if !h.Healthy() || !loopH.Healthy() {
		t.Error("pool reports unhealthy after the faults")
	}
}

func TestStartFunctionTrapRefused(t *testing.T) {
	_, err := NewHandler(context.Background(), readFile(t, "host/testdata/startrap.wasm"), HandlerConfig{Isolates: 1})
	if err == nil || !strings.Contains(err.Error(), "_initialize") {
		t.Fatalf("got %v, want a start-function error naming _initialize", err)
	}
}

// TestMemoryLimitRefusal: the handler passes the limit on, so a module
// needing more memory than allowed is refused at start with both sizes (the
// pool's tests cover the message in detail).
func TestMemoryLimitRefusal(t *testing.T) {
	wasm := readFile(t, "runtimepool/testdata/bigmem.wasm") // needs 3 pages
	_, err := NewHandler(context.Background(), wasm, HandlerConfig{Isolates: 1, MemoryLimit: 2 << 16})
	if err == nil || !strings.Contains(err.Error(), "192 KiB") || !strings.Contains(err.Error(), "128 KiB") {
		t.Fatalf("got %v, want a refusal naming 192 KiB and 128 KiB", err)
	}
}

func TestBodyLimit(t *testing.T) {
	base, h, _ := startConfig(t, faultsWasm(t), HandlerConfig{Isolates: 1, MaxBody: 1024}, server.Config{})
	cases := []struct {
		name string
		body io.Reader
		want int
	}{
		{"no body", nil, 200},
		{"within the limit", strings.NewReader(strings.Repeat("x", 1024)), 200},
		{"declared length over the limit", strings.NewReader(strings.Repeat("x", 4096)), 413},
		// A reader of unknown type is sent chunked: the guest finds out
		// while reading, and read_body traps with the MaxBytesError.
		{"chunked body over the limit", io.MultiReader(strings.NewReader(strings.Repeat("x", 4096))), 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body, _ := fetch(t, "POST", base+"/upload", c.body)
			if code != c.want {
				t.Fatalf("status %d, want %d (%q)", code, c.want, body)
			}
			if code == 413 && !strings.HasPrefix(body, "413 request body too large") {
				t.Errorf("body %q", body)
			}
			waitFull(t, h)
		})
	}
}

// TestLimitBody: a body that may go over the limit is wrapped or refused;
// a request without one keeps http.NoBody, so that a GET allocates no
// MaxBytesReader.
func TestLimitBody(t *testing.T) {
	cases := []struct {
		name    string
		body    io.ReadCloser
		length  int64
		max     int64
		ok      bool
		wrapped bool
	}{
		{"no limit", io.NopCloser(strings.NewReader("abc")), 3, 0, true, false},
		{"no body", http.NoBody, 0, 10, true, false},
		{"nil body", nil, 0, 10, true, false},
		{"declared length within", io.NopCloser(strings.NewReader("abc")), 3, 10, true, true},
		{"declared length over", io.NopCloser(strings.NewReader("abcdef")), 6, 5, false, false},
		{"unknown length", io.NopCloser(strings.NewReader("abcdef")), -1, 5, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			r.Body, r.ContentLength = c.body, c.length
			ok := limitBody(httptest.NewRecorder(), r, c.max)
			if ok != c.ok {
				t.Fatalf("limitBody = %v, want %v", ok, c.ok)
			}
			if wrapped := r.Body != c.body; wrapped != c.wrapped {
				t.Fatalf("body wrapped: %v, want %v", wrapped, c.wrapped)
			}
			if c.wrapped && c.length < 0 {
				_, err := io.ReadAll(r.Body)
				var tooBig *http.MaxBytesError
				if !errors.As(err, &tooBig) {
					t.Errorf("reading past the limit: %v, want a MaxBytesError", err)
				}
			}
		})
	}
}

func TestHeaderLimitAnswers431(t *testing.T) {
	base, _, _ := startConfig(t, faultsWasm(t), HandlerConfig{Isolates: 1}, server.Config{MaxHeaderBytes: 1024})
	req, _ := http.NewRequest("GET", base+"/ok", nil)
	req.Header.Set("X-Big", strings.Repeat("y", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}

// TestQueueBounds: with the only isolate stuck, one request may wait (and
// times out of the queue), one more is refused at once; both get 503 with
// Retry-After.
func TestQueueBounds(t *testing.T) {
	base, h, _ := startConfig(t, faultsWasm(t), HandlerConfig{
		Isolates: 1, MaxQueue: 1, QueueTimeout: 500 * time.Millisecond, HandlerTimeout: 5 * time.Second,
	}, server.Config{})
	stuck := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/loop")
		if err != nil {
			stuck <- 0
			return
		}
		resp.Body.Close()
		stuck <- resp.StatusCode
	}()
	testguest.WaitFor(t, "the loop to take the isolate", func() bool { return h.Pool().Busy() == 1 })
	waiting := make(chan int, 1)
	var retry string
	go func() {
		resp, err := http.Get(base + "/ok")
		if err != nil {
			waiting <- 0
			return
		}
		resp.Body.Close()
		retry = resp.Header.Get("Retry-After")
		waiting <- resp.StatusCode
	}()
	testguest.WaitFor(t, "a request to queue", func() bool { return h.Pool().Waiting() == 1 })
	code, body, hdr := fetch(t, "GET", base+"/ok", nil)
	if code != 503 || hdr.Get("Retry-After") == "" || !strings.HasPrefix(body, "503 server busy") {
		t.Errorf("request beyond --max-queue: %d %q Retry-After=%q", code, body, hdr.Get("Retry-After"))
	}
	if code := <-waiting; code != 503 || retry == "" {
		t.Errorf("request past --queue-timeout: %d Retry-After=%q", code, retry)
	}
	if code := <-stuck; code != 504 {
		t.Errorf("looping request: %d, want 504", code)
	}
}

// waitFor polls cond up to a generous bound.

// TestMaxRequestsPerIsolate: the guest counts its requests in a global; with
// one request per isolate it always answers 1, the global reset with the
// rest of the isolate.
func TestMaxRequestsPerIsolate(t *testing.T) {
	cases := []struct {
		name    string
		max     int
		wantMax int // the highest count allowed
	}{
		{"fresh isolate every request", 1, 1},
		{"three requests per isolate", 3, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base, h, _ := startConfig(t, faultsWasm(t), HandlerConfig{Isolates: 2, MaxRequestsPerIsolate: c.max}, server.Config{})
			for i := range 40 {
				code, body, _ := fetch(t, "GET", base+"/count", nil)
				var n int
				fmt.Sscan(body, &n)
				if code != 200 || n < 1 || n > c.wantMax {
					t.Fatalf("request %d: %d %q, want a count from 1 to %d", i, code, body, c.wantMax)
				}
			}
			waitFull(t, h)
			// faults.wasm keeps all its state in memory and globals,
			// so its isolates are reset, not replaced.
			if h.Pool().Resets() == 0 {
				t.Errorf("no isolate was reset (%s)", h.Pool().Stats().ResetBlocker)
			}
		})
	}
}

// TestHammer: many goroutines over few isolates, faults mixed in; every good
// response is the right one and no isolate ever serves two requests at once
// (the guest answers 409 if re-entered; the pool panics if it hands out a
// busy isolate).
func TestHammer(t *testing.T) {
	base, h, _ := startConfig(t, faultsWasm(t), HandlerConfig{Isolates: 3}, server.Config{})
	const workers, each = 16, 60
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				path, want := fmt.Sprintf("/ok?w=%d&i=%d", w, i), 200
				if (w+i)%7 == 0 {
					path, want = "/trap", 500
				}
				resp, err := client.Get(base + path)
				if err != nil {
					errs <- err
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want || (want == 200 && string(b) != "ok:"+path) {
					errs <- fmt.Errorf("GET %s: %d %q", path, resp.StatusCode, b)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitFull(t, h)
}

// TestReloadUnderLoad: requests keep flowing while the module is replaced;
// none fails and the answers switch to the new module. A module that does
// not load leaves the current one serving.
func TestReloadUnderLoad(t *testing.T) {
	base, h, logs := startConfig(t, faultsWasm(t), HandlerConfig{Isolates: 2}, server.Config{})
	hello := readFile(t, "guest-examples/hello-wat/hello.wasm")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seenNew := 0
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := fmt.Sprintf("/ok?w=%d&i=%d", w, i)
				code, body, _ := fetch(t, "GET", base+path, nil)
				switch {
				case code == 200 && body == "ok:"+path:
				case code == 200 && body == "Hello from wasmserve: "+path+"\n":
					mu.Lock()
					seenNew++
					mu.Unlock()
				default:
					t.Errorf("GET %s during reload: %d %q", path, code, body)
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond) // let load build up; not an assertion
	if err := h.Reload(context.Background(), []byte("\x00asm garbage")); err == nil {
		t.Error("reloading a broken module succeeded")
	}
	if h.Generation() != 1 {
		t.Errorf("generation %d after a failed reload", h.Generation())
	}
	if err := h.Reload(context.Background(), hello); err != nil {
		t.Fatal(err)
	}
	testguest.WaitFor(t, "responses from the new module", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seenNew >= 20
	})
	close(stop)
	wg.Wait()
	if code, body, _ := fetch(t, "GET", base+"/after", nil); code != 200 || body != "Hello from wasmserve: /after\n" {
		t.Errorf("after reload: %d %q", code, body)
	}
	if !strings.Contains(logs.String(), "module reloaded") || !strings.Contains(logs.String(), "reload failed") {
		t.Errorf("reloads not logged:\n%s", logs.String())
	}
}
