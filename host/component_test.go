package host

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/executor/wasihttp"
	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// startJSRouter serves the JavaScript router component
// (guest-examples/js-router, built by componentize-js) through the whole
// server: the handler, its pool of component instances, a listener. Its
// outgoing requests may reach allow.
func startJSRouter(t *testing.T, cfg HandlerConfig, allow ...string) (string, *Handler, *testguest.SyncBuffer) {
	t.Helper()
	wasm, err := os.ReadFile(testguest.BuildComponent(t, "guest-examples/js-router"))
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbound.New(outbound.Config{Allow: allow}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close(context.Background()) })
	cfg.Executors = []executor.Kind{wasihttp.Kind(wasihttp.KindConfig{Outbound: ob.Host()})}
	return startConfig(t, wasm, cfg, server.Config{})
}

// TestComponentFromOutside: the JS router answers as its source says, over
// a real connection, a fresh instance per request.
func TestComponentFromOutside(t *testing.T) {
	base, h, _ := startJSRouter(t, HandlerConfig{Isolates: 2})
	if name, _, why := h.ABI(); name != wasihttp.KindName || !strings.Contains(why, "wasi:http/incoming-handler@0.2") {
		t.Fatalf("ABI = %s (%s), want %s chosen by its export", name, why, wasihttp.KindName)
	}

	t.Run("path and query", func(t *testing.T) {
		code, body, _ := fetch(t, "GET", base+"/a/b?x=1&y=two", nil)
		if code != 200 || body != "path: /a/b\nquery: ?x=1&y=two\n" {
			t.Fatalf("GET /a/b?x=1&y=two = %d %q", code, body)
		}
	})
	t.Run("a status from the guest", func(t *testing.T) {
		if code, body, _ := fetch(t, "GET", base+"/teapot", nil); code != 418 || body != "short and stout\n" {
			t.Fatalf("GET /teapot = %d %q", code, body)
		}
	})
	t.Run("headers in and multi-valued headers out", func(t *testing.T) {
		req, _ := http.NewRequest("GET", base+"/headers", nil)
		req.Header.Set("X-One", "1")
		req.Header.Add("X-Two", "2")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), "x-one: 1\n") || !strings.Contains(string(b), "x-two: 2\n") {
			t.Errorf("the guest saw headers %q", b)
		}
		// StarlingMonkey's Headers joins appended values with ", " (as
		// the Fetch standard's Headers does), except Set-Cookie, which
		// must stay separate fields.
		if got := resp.Header.Values("X-Multi"); strings.Join(got, ", ") != "one, two" {
			t.Errorf("X-Multi = %q, want one and two", got)
		}
		if got := resp.Header.Values("Set-Cookie"); strings.Join(got, "|") != "a=1|b=2" {
			t.Errorf("Set-Cookie = %q, want two fields", got)
		}
	})
	t.Run("a body echoed", func(t *testing.T) {
		for _, n := range []int{5, 400_000} {
			in := bytes.Repeat([]byte("0123456789"), n/10+1)[:n]
			code, body, _ := fetch(t, "POST", base+"/echo", bytes.NewReader(in))
			if code != 200 || body != string(in) {
				t.Fatalf("POST /echo of %d bytes = %d, %d bytes back", n, code, len(body))
			}
		}
	})
	t.Run("a 1 MiB response", func(t *testing.T) {
		code, body, _ := fetch(t, "GET", base+"/big", nil)
		if code != 200 || len(body) != 1<<20 || body[:26] != "abcdefghijklmnopqrstuvwxyz" {
			t.Fatalf("GET /big = %d, %d bytes", code, len(body))
		}
	})
	t.Run("a throwing guest, then the next request", func(t *testing.T) {
		code, body, _ := fetch(t, "GET", base+"/throw", nil)
		if code != 500 || strings.Contains(body, "on purpose") {
			t.Fatalf("GET /throw = %d %q, want a 500 without the guest's error text", code, body)
		}
		if code, _, _ := fetch(t, "GET", base+"/", nil); code != 200 {
			t.Fatalf("the request after a throw = %d", code)
		}
	})
	t.Run("60 in a row", func(t *testing.T) {
		for i := 0; i < 60; i++ {
			want := fmt.Sprintf("path: /n%d\nquery: \n", i)
			if code, body, _ := fetch(t, "GET", fmt.Sprintf("%s/n%d", base, i), nil); code != 200 || body != want {
				t.Fatalf("request %d = %d %q", i, code, body)
			}
		}
	})
	t.Run("40 at once", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan string, 40)
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				resp, err := http.Get(fmt.Sprintf("%s/c%d", base, i))
				if err != nil {
					errs <- err.Error()
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if want := fmt.Sprintf("path: /c%d\nquery: \n", i); resp.StatusCode != 200 || string(b) != want {
					errs <- fmt.Sprintf("request %d = %d %q", i, resp.StatusCode, b)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	})
}

// TestComponentOutbound: a component's fetch goes through the outbound
// policy: an allowed origin answers, another origin and a metadata address
// are refused.
func TestComponentOutbound(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "from upstream")
	}))
	defer upstream.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a refused origin was reached")
	}))
	defer other.Close()
	base, _, _ := startJSRouter(t, HandlerConfig{Isolates: 1}, upstream.URL)
	tests := []struct {
		name   string
		target string
		code   int
		body   string
	}{
		{"an allowed origin", upstream.URL + "/x", 200, "from upstream"},
		{"another origin", other.URL + "/x", 502, "fetch failed"},
		{"a metadata address", "http://169.254.169.254/latest/meta-data/", 502, "fetch failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := fetch(t, "GET", base+"/fetch?url="+url.QueryEscape(tt.target), nil)
			if code != tt.code || !strings.Contains(body, tt.body) {
				t.Fatalf("fetch %s = %d %q, want %d with %q", tt.target, code, body, tt.code, tt.body)
			}
		})
	}
}

// TestComponentMemoryLimitAtLoad: a component whose memories start larger
// than --memory-limit is refused when loaded, with both sizes named.
func TestComponentMemoryLimitAtLoad(t *testing.T) {
	wasm, err := os.ReadFile(testguest.BuildComponent(t, "guest-examples/js-router"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewHandler(context.Background(), wasm, HandlerConfig{Isolates: 1, MemoryLimit: 1 << 20, CacheDir: testguest.CacheDir(t)})
	// wazero refuses the 9 MiB memory itself when it compiles the module;
	// a component whose memories fit one by one but not together is
	// refused by the pool (runtimepool's TestComponentMemoryLimit).
	if err == nil || !strings.Contains(err.Error(), "over limit of 16 pages") {
		t.Fatalf("NewHandler with a 1 MiB limit: err = %v", err)
	}
}

// TestComponentTimeout: a guest looping forever is stopped at the handler
// timeout, answered 504, and the next request is served.
func TestComponentTimeout(t *testing.T) {
	base, _, _ := startJSRouter(t, HandlerConfig{Isolates: 1, HandlerTimeout: time.Second})
	code, body, _ := fetch(t, "GET", base+"/spin", nil)
	if code != http.StatusGatewayTimeout {
		t.Fatalf("GET /spin = %d %q, want 504", code, body)
	}
	if code, _, _ := fetch(t, "GET", base+"/after", nil); code != 200 {
		t.Fatalf("the request after a timeout = %d", code)
	}
}

// TestComponentReload: a reload swaps a core module for a component and a
// component for another, each answering as itself.
func TestComponentReload(t *testing.T) {
	js, err := os.ReadFile(testguest.BuildComponent(t, "guest-examples/js-router"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := os.ReadFile(testguest.Path("guest-examples/component-c/router.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	wat, err := os.ReadFile(testguest.Path("guest-examples/hello-wat/hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	base, h, _ := startConfig(t, wat, HandlerConfig{Isolates: 1}, server.Config{})
	steps := []struct {
		name string
		wasm []byte
		want string
	}{
		{"a core module", nil, "Hello from wasmserve: /r\n"},
		{"to the C component", c, "hello from C: /r\n"},
		{"to the JS component", js, "path: /r\nquery: \n"},
		{"back to the core module", wat, "Hello from wasmserve: /r\n"},
	}
	for _, s := range steps {
		if s.wasm != nil {
			if err := h.Reload(context.Background(), s.wasm); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		if code, body, _ := fetch(t, "GET", base+"/r", nil); code != 200 || body != s.want {
			t.Fatalf("%s: GET /r = %d %q, want %q", s.name, code, body, s.want)
		}
	}
}

// TestComponentBodyLimit: a request body over --max-body never reaches the
// guest whole: declared, it is answered 413 before the guest runs; sent
// chunked to the echo, which streams its answer while it reads, the answer
// already begun is cut short when the guest's stream fails at the limit.
// The next request is served.
func TestComponentBodyLimit(t *testing.T) {
	base, _, _ := startJSRouter(t, HandlerConfig{Isolates: 1, MaxBody: 64 << 10})
	big := bytes.Repeat([]byte("x"), 256<<10)
	if code, _, _ := fetch(t, "POST", base+"/echo", bytes.NewReader(big)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a declared 256 KiB body over a 64 KiB limit = %d, want 413", code)
	}
	// io.MultiReader hides the length: the body is sent chunked.
	resp, err := http.Post(base+"/echo", "application/octet-stream", io.MultiReader(bytes.NewReader(big)))
	if err == nil {
		n, rerr := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && rerr == nil && n == int64(len(big)) {
			t.Errorf("a chunked 256 KiB body over a 64 KiB limit was echoed whole")
		}
	}
	if code, body, _ := fetch(t, "POST", base+"/echo", strings.NewReader("small")); code != 200 || body != "small" {
		t.Errorf("a small body after them = %d %q", code, body)
	}
}
