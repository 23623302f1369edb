package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// cgiGuest builds host/testdata/cgiguest as a WASI command.
func cgiGuest(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(testguest.BuildCommand(t, "host/testdata/cgiguest"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startCGI serves the CGI test guest and returns its URL, the handler and
// its log.
func startCGI(t *testing.T, cfg HandlerConfig) (string, *Handler, *testguest.SyncBuffer) {
	t.Helper()
	logs := new(testguest.SyncBuffer)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newTestHandler(t, cgiGuest(t), cfg)
	return startPlain(t, h), h, logs
}

// noRedirects is a client that shows redirects rather than following them.
var noRedirects = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, noRedirects, req)
}

// envOf parses the /env answer.
func envOf(t *testing.T, body string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("env line %q", line)
		}
		if _, dup := env[k]; dup {
			t.Errorf("variable %s twice", k)
		}
		env[k] = v
	}
	return env
}

func TestCGIDetected(t *testing.T) {
	base, h, _ := startCGI(t, HandlerConfig{Isolates: 1})
	name, title, why := h.ABI()
	if name != "cgi" || title != "CGI (WASI command)" || !strings.Contains(why, "exports _start") {
		t.Errorf("ABI %q %q (%s), want cgi", name, title, why)
	}
	resp, body := get(t, base+"/ignore")
	if resp.StatusCode != 200 || body != "ignored\n" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("got %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

func TestCGIInspect(t *testing.T) {
	rep, err := Inspect(context.Background(), readFile(t, "guest-examples/cgi-c/hello.wasm"), HandlerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || !strings.HasPrefix(rep.ABI, "CGI (WASI command) (it is a WASI command") || rep.Start != "_start" {
		t.Errorf("report %+v", rep)
	}
	// An http-wasm guest forced to CGI: it imports http_handler and has
	// no _start.
	rep, err = Inspect(context.Background(), readFile(t, "host/testdata/middleware.wasm"), HandlerConfig{ABI: "cgi"})
	if err != nil {
		t.Fatal(err)
	}
	probs := strings.Join(rep.Problems, "\n")
	if rep.OK() || !strings.Contains(probs, `does not export "_start"`) || !strings.Contains(probs, "imports http_handler.") {
		t.Errorf("problems %q", probs)
	}
	_, err = NewHandler(context.Background(), readFile(t, "host/testdata/middleware.wasm"), HandlerConfig{ABI: "cgi", Isolates: 1})
	if err == nil || !strings.Contains(err.Error(), "cannot be served as CGI") {
		t.Errorf("NewHandler: %v", err)
	}
}

func TestCGIVariables(t *testing.T) {
	base, _, _ := startCGI(t, HandlerConfig{Isolates: 1, Env: []string{"MY_SETTING=on", "REQUEST_METHOD=spoofed"}})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))

	req, _ := http.NewRequest("GET", base+"/env/a%2Fb?a=1&b=x%20y", nil)
	req.Header.Set("X-Custom", "v1")
	req.Header.Add("X-Custom", "v2")
	req.Header.Set("Proxy", "http://evil.example")
	req.Header["X_Under"] = []string{"u"}
	req.Header.Set("Authorization", "Bearer t")
	_, body := do(t, noRedirects, req)
	env := envOf(t, body)
	want := map[string]string{
		"GATEWAY_INTERFACE":  "CGI/1.1",
		"SERVER_SOFTWARE":    "wasmserve",
		"SERVER_NAME":        "127.0.0.1",
		"SERVER_PORT":        port,
		"SERVER_PROTOCOL":    "HTTP/1.1",
		"REQUEST_METHOD":     "GET",
		"REQUEST_URI":        "/env/a%2Fb?a=1&b=x%20y",
		"SCRIPT_NAME":        "",
		"PATH_INFO":          "/env/a/b",
		"QUERY_STRING":       "a=1&b=x%20y",
		"REMOTE_ADDR":        "127.0.0.1",
		"REMOTE_HOST":        "127.0.0.1",
		"HTTP_HOST":          "127.0.0.1:" + port,
		"HTTP_X_CUSTOM":      "v1, v2",
		"HTTP_AUTHORIZATION": "Bearer t",
		"X_FULL_URL":         base + "/env/a%2Fb?a=1&b=x%20y",
		"X_RAW_PATH_INFO":    "/env/a%2Fb",
		"MY_SETTING":         "on",
	}
	for k, v := range want {
		t.Run(k, func(t *testing.T) {
			if got, ok := env[k]; !ok || got != v {
				t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
			}
		})
	}
	if p := env["REMOTE_PORT"]; p == "" || strings.Trim(p, "0123456789") != "" {
		t.Errorf("REMOTE_PORT %q", p)
	}
	for _, k := range []string{"HTTP_PROXY", "HTTP_X_UNDER", "HTTPS", "CONTENT_LENGTH", "CONTENT_TYPE"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s=%q set, want absent", k, v)
		}
	}

	// A body's type and length.
	req, _ = http.NewRequest("POST", base+"/env", strings.NewReader("abc"))
	req.Header.Set("Content-Type", "text/x-test")
	_, body = do(t, noRedirects, req)
	env = envOf(t, body)
	if env["CONTENT_LENGTH"] != "3" || env["CONTENT_TYPE"] != "text/x-test" || env["REQUEST_METHOD"] != "POST" {
		t.Errorf("POST: %v", env)
	}
	if _, ok := env["HTTP_CONTENT_TYPE"]; ok {
		t.Error("HTTP_CONTENT_TYPE set")
	}

	// TLS and HTTP/2.
	tbase, client := startTLS(t, newTestHandler(t, cgiGuest(t), HandlerConfig{Isolates: 1}))
	resp, err := client.Get(tbase + "/env")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	env = envOf(t, string(b))
	if env["HTTPS"] != "on" || env["SERVER_PROTOCOL"] != "HTTP/2.0" || !strings.HasPrefix(env["X_FULL_URL"], "https://") {
		t.Errorf("TLS: HTTPS=%q SERVER_PROTOCOL=%q X_FULL_URL=%q", env["HTTPS"], env["SERVER_PROTOCOL"], env["X_FULL_URL"])
	}
}

func TestCGIBody(t *testing.T) {
	base, _, _ := startCGI(t, HandlerConfig{Isolates: 1, MaxBody: 2 << 20})
	body := make([]byte, 1<<20)
	rand.Read(body)
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			var r io.Reader = bytes.NewReader(body)
			if chunked {
				r = io.MultiReader(r) // length unknown
			}
			req, _ := http.NewRequest("POST", base+"/echo?x=1", r)
			resp, got := do(t, noRedirects, req)
			if resp.StatusCode != 200 || got != string(body) || resp.Header.Get("X-Length") != "1048576" {
				t.Errorf("status %d, %d bytes back (equal %v), X-Length %q", resp.StatusCode, len(got), got == string(body), resp.Header.Get("X-Length"))
			}
		})
	}
	big := make([]byte, 3<<20)
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("over the limit, chunked=%v", chunked), func(t *testing.T) {
			var r io.Reader = bytes.NewReader(big)
			if chunked {
				r = io.MultiReader(r)
			}
			req, _ := http.NewRequest("POST", base+"/echo", r)
			resp, got := do(t, noRedirects, req)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d %q, want 413", resp.StatusCode, got)
			}
		})
	}
}

func TestCGIResponses(t *testing.T) {
	base, _, logs := startCGI(t, HandlerConfig{Isolates: 2})
	cases := []struct {
		name, path string
		status     int
		header     map[string]string
		body       string // a substring
		log        string // a substring of the log, with the request id
	}{
		{name: "Status", path: "/status", status: 404, header: map[string]string{"Content-Type": "text/html", "X-Extra": "yes"}, body: "<h1>gone</h1>"},
		{name: "client redirect", path: "/remote", status: 302, header: map[string]string{"Location": "https://example.com/elsewhere"}},
		{name: "client redirect with document", path: "/remote-doc", status: 301, header: map[string]string{"Location": "https://example.com/moved", "Content-Type": "text/plain"}, body: "moved"},
		{name: "local redirect", path: "/local", status: 200, header: map[string]string{"Location": ""}, body: "QUERY_STRING=from=local\n"},
		{name: "local redirect loop", path: "/loop", status: 502, log: "local redirects loop"},
		{name: "malformed header", path: "/malformed", status: 502, log: `is not \"Name: value\"`},
		{name: "no blank line", path: "/noblank", status: 502, log: "before the blank line"},
		{name: "no output", path: "/nothing", status: 502, log: "wrote nothing"},
		{name: "non-zero exit before output", path: "/fail-before", status: 500, log: "exit_code(3)"},
		{name: "unknown path", path: "/what", status: 400, body: "unknown path"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := get(t, base+c.path)
			if resp.StatusCode != c.status || !strings.Contains(body, c.body) {
				t.Fatalf("got %d %q, want %d with %q", resp.StatusCode, body, c.status, c.body)
			}
			for k, v := range c.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if c.status >= 500 {
				id := resp.Header.Get("X-Request-Id")
				if id == "" || !strings.Contains(body, id) || strings.Contains(body, "Name") {
					t.Errorf("error answer %q (id %q): want generic, with the request id", body, id)
				}
				if !strings.Contains(logs.String(), "request_id="+id) || !strings.Contains(logs.String(), c.log) {
					t.Errorf("log lacks %q under request id %s:\n%s", c.log, id, logs)
				}
			}
		})
	}
}

func TestCGIExitAfterHeaders(t *testing.T) {
	base, h, logs := startCGI(t, HandlerConfig{Isolates: 1})
	resp, err := http.Get(base + "/fail-after")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || err == nil || string(b) != "partial " {
		t.Errorf("got %d %q, read error %v: want 200, the partial body and a cut-short response", resp.StatusCode, b, err)
	}
	if !strings.Contains(logs.String(), "exit_code(4)") {
		t.Errorf("log lacks the exit:\n%s", logs)
	}
	if r, body := get(t, base+"/ignore"); r.StatusCode != 200 || body != "ignored\n" {
		t.Errorf("next request: %d %q", r.StatusCode, body)
	}
	_ = h
}

func TestCGITimeout(t *testing.T) {
	h := newTestHandler(t, readFile(t, "host/testdata/cgispin.wasm"), HandlerConfig{Isolates: 1, HandlerTimeout: 300 * time.Millisecond})
	base := startPlain(t, h)
	for i := range 2 {
		resp, body := get(t, base+"/spin")
		if resp.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("request %d: got %d %q, want 504", i, resp.StatusCode, body)
		}
		// The second request runs on the replacement.
		if got := h.Pool().Replaced(); got != uint64(i+1) {
			t.Errorf("request %d: replaced %d isolates, want %d", i, got, i+1)
		}
	}
}

func TestCGIIgnoresLargeBody(t *testing.T) {
	base, _, _ := startCGI(t, HandlerConfig{Isolates: 1})
	req, _ := http.NewRequest("POST", base+"/ignore", bytes.NewReader(make([]byte, 16<<20)))
	resp, body := do(t, noRedirects, req)
	if resp.StatusCode != 200 || body != "ignored\n" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, base+"/ignore"); resp.StatusCode != 200 || body != "ignored\n" {
		t.Errorf("next request: %d %q", resp.StatusCode, body)
	}
}

func TestCGIStreams(t *testing.T) {
	base, _, _ := startCGI(t, HandlerConfig{Isolates: 1})
	t0 := time.Now()
	resp, err := http.Get(base + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, len("first\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first\n" {
		t.Fatalf("first bytes %q: %v", first, err)
	}
	firstAt := time.Since(t0)
	rest, err := io.ReadAll(resp.Body)
	endAt := time.Since(t0)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest %q: %v", rest, err)
	}
	// The guest sleeps a second between its writes.
	if endAt < time.Second || firstAt > endAt-500*time.Millisecond {
		t.Errorf("first bytes after %v, the end after %v: the body did not stream", firstAt, endAt)
	}
}

func TestCGIStderr(t *testing.T) {
	base, _, logs := startCGI(t, HandlerConfig{Isolates: 1})
	if resp, _ := get(t, base+"/stderr?tag-7"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "a line on stderr tag-7") {
			line = l
		}
	}
	if !strings.Contains(line, "request_id=") || !strings.Contains(line, "stream=stderr") {
		t.Errorf("stderr line %q: want it tagged with the request id", line)
	}
}

// TestCGIFreshInstance: every request runs _start on a fresh instance, so
// a global starts from zero each time.
func TestCGIFreshInstance(t *testing.T) {
	base, h, _ := startCGI(t, HandlerConfig{Isolates: 1})
	for i := 0; i < 3; i++ {
		if _, body := get(t, base+"/state"); body != "1\n" {
			t.Fatalf("request %d: %q, want 1", i, body)
		}
	}
	if h.Pool().Retired() < 2 {
		t.Errorf("retired %d isolates, want one a request", h.Pool().Retired())
	}
}

func TestCGIConcurrent(t *testing.T) {
	base, _, _ := startCGI(t, HandlerConfig{Isolates: 4})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("request %d %s", i, strings.Repeat("x", i*100))
			resp, err := noRedirects.Post(fmt.Sprintf("%s/echo?n=%d", base, i), "text/plain", strings.NewReader(want))
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(b) != want || resp.Header.Get("X-Query") != fmt.Sprintf("n=%d", i) {
				errs <- fmt.Errorf("request %d: %d %q (X-Query %q) %v", i, resp.StatusCode, b, resp.Header.Get("X-Query"), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCGICExample(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  HandlerConfig
	}{
		{"no timeout", HandlerConfig{Isolates: 1}},
		{"interruptible", HandlerConfig{Isolates: 1, HandlerTimeout: 10 * time.Second}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newTestHandler(t, readFile(t, "guest-examples/cgi-c/hello.wasm"), c.cfg)
			base := startPlain(t, h)
			for i := range 5 {
				if _, body := get(t, fmt.Sprintf("%s/hi?x=%d", base, i)); body != fmt.Sprintf("hello, CGI from C: GET /hi?x=%d\n", i) {
					t.Errorf("GET %d: %q", i, body)
				}
				req, _ := http.NewRequest("POST", base+"/p", strings.NewReader(fmt.Sprint("posted ", i)))
				if _, body := do(t, noRedirects, req); body != fmt.Sprint("hello, CGI from C: POST /p\nposted ", i) {
					t.Errorf("POST %d: %q", i, body)
				}
			}
			// A C command returns from _start and keeps its state in
			// memory and globals: its isolate is reset after each
			// request, not replaced.
			if st := h.Pool().Stats(); st.ResetBlocker != "" || h.Pool().Resets() < 8 || h.Pool().Retired() != 0 {
				t.Errorf("resets %d, retired %d (blocker %q): want every request's isolate reset", h.Pool().Resets(), h.Pool().Retired(), st.ResetBlocker)
			}
		})
	}
	// With a directory granted, fd_close is WASI's own and resets stop.
	h2 := newTestHandler(t, readFile(t, "guest-examples/cgi-c/hello.wasm"), HandlerConfig{Isolates: 1, Dirs: []runtimepool.Dir{{Host: t.TempDir(), Guest: "/d"}}})
	if _, body := get(t, startPlain(t, h2)+"/x"); body != "hello, CGI from C: GET /x\n" {
		t.Errorf("with a directory: %q", body)
	}
	if b := h2.Pool().Stats().ResetBlocker; !strings.Contains(b, "fd_close") {
		t.Errorf("with a directory, reset blocker %q, want fd_close", b)
	}
}
