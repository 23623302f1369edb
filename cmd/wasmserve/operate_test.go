package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

func TestFlagsFirst(t *testing.T) {
	cases := []struct {
		name string
		in   []string
		want []string
	}{
		{"flags first already", []string{"--port", "0", "m.wasm"}, []string{"--port", "0", "--", "m.wasm"}},
		{"flags after", []string{"m.wasm", "--port", "0", "--isolates", "4"}, []string{"--port", "0", "--isolates", "4", "--", "m.wasm"}},
		{"bool flag takes no value", []string{"m.wasm", "--compress", "--port=0"}, []string{"--compress", "--port=0", "--", "m.wasm"}},
		{"short alias", []string{"m.wasm", "-p", "9"}, []string{"-p", "9", "--", "m.wasm"}},
		{"bool with =false", []string{"--access-log=false", "m.wasm"}, []string{"--access-log=false", "--", "m.wasm"}},
		{"double dash keeps the rest", []string{"--", "-odd.wasm"}, []string{"--", "-odd.wasm"}},
		{"two modules stay two", []string{"a.wasm", "b.wasm"}, []string{"--", "a.wasm", "b.wasm"}},
		{"no module", []string{"--port", "0"}, []string{"--port", "0"}},
		{"repeated header", []string{"m.wasm", "--header", "A: b", "--header", "C: d"}, []string{"--header", "A: b", "--header", "C: d", "--", "m.wasm"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := flagsFirst(c.in, serveFlags()); !slices.Equal(got, c.want) {
				t.Errorf("flagsFirst(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestFlagsAfterModule: `wasmserve serve handler.wasm --port 0 ...` and
// `wasmserve handler.wasm --port 0 ...` serve.
func TestFlagsAfterModule(t *testing.T) {
	hello := testguest.Path("guest-examples/hello-wat/hello.wasm")
	for _, prefix := range [][]string{{"serve", hello}, {hello}} {
		t.Run(strings.Join(prefix[:1], ""), func(t *testing.T) {
			pf := filepath.Join(t.TempDir(), "port")
			cmd := exec.Command(binary, append(prefix, "--port", "0", "--port-file", pf, "--address", "127.0.0.1",
				"--isolates", "1", "--no-banner", "--cache-dir", testguest.CacheDir(t))...)
			port, stderr := startCmd(t, cmd, pf)
			code, body := get(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/after")
			if code != 200 || body != "Hello from wasmserve: /after\n" {
				t.Errorf("got %d %q; stderr:\n%s", code, body, stderr)
			}
		})
	}
}

// TestEveryFlagInREADME: every flag of serve is the first cell of a row of
// one of the README's tables, so the docs cannot drift from the code.
func TestEveryFlagInREADME(t *testing.T) {
	b, err := os.ReadFile(testguest.Path("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	row := regexp.MustCompile("^\\| `(-[^`]*)`")
	name := regexp.MustCompile(`--([a-z0-9-]+)`)
	fence := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil && !fence {
			for _, n := range name.FindAllStringSubmatch(m[1], -1) {
				documented[n[1]] = true
			}
		}
	}
	if fence {
		t.Error("README.md has a code fence that is never closed")
	}
	for _, f := range serveFlags() {
		if n := f.Names()[0]; !documented[n] {
			t.Errorf("--%s is in no README.md flags table", n)
		}
	}
}

// TestOperateFlagErrors: bad values of the response and admin flags get
// one line naming the flag, and exit 1.
func TestOperateFlagErrors(t *testing.T) {
	hello := testguest.Path("guest-examples/hello-wat/hello.wasm")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"header without colon", []string{"--header", "X-Frame-Options DENY"}, `--header: header "X-Frame-Options DENY" is not 'Name: value'`},
		{"header bad name", []string{"--header", "Bad Name: x"}, `is not a valid header name`},
		{"negative idle timeout", []string{"--idle-timeout", "-1s"}, "--idle-timeout must be 0"},
		{"min size without compress", []string{"--compress-min-size", "2KiB"}, "--compress-min-size needs --compress"},
		{"bad min size", []string{"--compress", "--compress-min-size", "big"}, "--compress-min-size"},
		{"bad admin address", []string{"--admin", "nowhere"}, `--admin: admin address "nowhere"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(binary, append(append([]string{"serve", "--port", "0", "--address", "127.0.0.1", "--no-cache"}, c.args...), hello)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1; stderr:\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr does not say %q:\n%s", c.want, stderr.String())
			}
		})
	}
}

// logLines decodes JSON log lines, skipping anything else.
func logLines(out string) []map[string]any {
	var lines []map[string]any
	for _, l := range strings.Split(out, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			lines = append(lines, m)
		}
	}
	return lines
}

// TestAccessLogJSON: with --log-format json each request is one line of
// typed fields; --access-log=false logs none.
func TestAccessLogJSON(t *testing.T) {
	hello := testguest.Path("guest-examples/hello-wat/hello.wasm")
	for _, on := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[on], func(t *testing.T) {
			args := []string{"--log-format", "json", "--log-level", "warn", "--isolates", "1", hello}
			if !on {
				args = append(args, "--access-log=false")
			}
			_, base, stderr := startServer(t, args...)
			req, _ := http.NewRequest("GET", base+"/logged?x=1", nil)
			req.Header.Set("X-Request-Id", "cli-test-1")
			req.Header.Set("User-Agent", "cli-test/2")
			req.Header.Set("Referer", "http://example.com/page")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			var line map[string]any
			testguest.WaitFor(t, "the access log line", func() bool {
				for _, l := range logLines(stderr.String()) {
					if l["msg"] == "request" {
						line = l
					}
				}
				return line != nil || !on
			})
			if !on {
				time.Sleep(100 * time.Millisecond)
				for _, l := range logLines(stderr.String()) {
					if l["msg"] == "request" {
						t.Fatalf("--access-log=false logged %v", l)
					}
				}
				return
			}
			for k, v := range map[string]any{"method": "GET", "host": strings.TrimPrefix(base, "http://"), "path": "/logged",
				"query": "x=1", "user_agent": "cli-test/2", "referer": "http://example.com/page", "proto": "HTTP/1.1",
				"status": float64(200), "bytes": float64(len("Hello from wasmserve: /logged?x=1\n")), "isolate": "i1", "request_id": "cli-test-1", "level": "info"} {
				if line[k] != v {
					t.Errorf("%s = %v (%T), want %v", k, line[k], line[k], v)
				}
			}
			if r, _ := line["remote"].(string); !strings.HasPrefix(r, "127.0.0.1:") {
				t.Errorf("remote = %v", line["remote"])
			}
			// Seconds, as a number: a hello answers in well under one.
			if d, ok := line["duration"].(float64); !ok || d <= 0 || d >= 10 {
				t.Errorf("duration = %v (%T), want seconds as a number", line["duration"], line["duration"])
			}
		})
	}
}

// adminURL waits for the "admin on" line and returns the admin base URL.
func adminURL(t *testing.T, stderr *testguest.SyncBuffer) string {
	t.Helper()
	re := regexp.MustCompile(`admin on (http://[0-9.:]+)`)
	var url string
	testguest.WaitFor(t, "the admin address in the log", func() bool {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
		return url != ""
	})
	return url
}

// TestReadinessWhileDraining: after SIGTERM, /readyz answers 503 while a
// request in flight holds the drain, /healthz stays 200, and the request
// still gets its answer.
func TestReadinessWhileDraining(t *testing.T) {
	cmd, base, stderr := startServer(t, "--admin", "127.0.0.1:0", "--isolates", "1", "--handler-timeout", "2s",
		"--grace", "20s", testguest.Path("host/testdata/faults.wasm"))
	admin := adminURL(t, stderr)
	if code, _ := get(t, admin+"/readyz"); code != 200 {
		t.Fatalf("/readyz before the signal: %d", code)
	}
	if _, body := get(t, admin+"/metrics"); !regexp.MustCompile(`(?m)^wasmserve_build_info\{goversion="go1\.[0-9.]+",version="[^"]+",wazero="v1\.[0-9.]+"\} 1$`).MatchString(body) {
		t.Errorf("/metrics has no wasmserve_build_info naming the versions")
	}
	inflight := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/loop") // held until the 2 s handler timeout
		if err != nil {
			inflight <- -1
			return
		}
		resp.Body.Close()
		inflight <- resp.StatusCode
	}()
	testguest.WaitFor(t, "the request to be in flight", func() bool {
		_, body := get(t, admin+"/debug/connections")
		return strings.Contains(body, `"active": 1`)
	})
	cmd.Process.Signal(syscall.SIGTERM)
	testguest.WaitFor(t, "/readyz to answer 503", func() bool {
		code, _ := get(t, admin+"/readyz")
		return code == 503
	})
	if code, _ := get(t, admin+"/healthz"); code != 200 {
		t.Errorf("/healthz while draining: %d", code)
	}
	if code := <-inflight; code != 504 {
		t.Errorf("the request in flight got %d, want its 504", code)
	}
	if code := waitExit(t, cmd, stderr); code != 0 {
		t.Errorf("exit %d; stderr:\n%s", code, stderr)
	}
}

// TestBanner: in a terminal (a pty) the banner is a styled box holding the
// module's digest and the URL; without one it is a log line with the same
// facts; --no-banner and --no-url leave them out in every format.
func TestBanner(t *testing.T) {
	hello := testguest.Path("guest-examples/hello-wat/hello.wasm")
	args := func(extra ...string) []string {
		return append([]string{"serve", "--port", "0", "--address", "127.0.0.1", "--isolates", "1",
			"--cache-dir", testguest.CacheDir(t), "--admin", "127.0.0.1:0"}, append(extra, hello)...)
	}
	t.Run("terminal", func(t *testing.T) {
		out := runInPTY(t, args()...)
		// The version is "dev", or the pseudo-version go build stamps in a
		// clean checkout; the Go version follows it either way.
		for _, want := range []string{"╭", "wasmserve ", " (" + runtime.Version() + ", wazero", "sha256 ", "http-wasm handler", "isolates", "url", "http://127.0.0.1:", "admin", "\x1b["} {
			if !strings.Contains(out, want) {
				t.Errorf("the terminal banner lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("terminal no-banner", func(t *testing.T) {
		out := runInPTY(t, args("--no-banner")...)
		if strings.Contains(out, "╭") || strings.Contains(out, "sha256") {
			t.Errorf("--no-banner printed a banner:\n%s", out)
		}
		if !strings.Contains(out, "listening on http://127.0.0.1:") {
			t.Errorf("no URL line:\n%s", out)
		}
	})
	for _, format := range []string{"text", "json", "logfmt"} {
		t.Run("pipe "+format, func(t *testing.T) {
			stdout, stderr := runPiped(t, args("--log-format", format)...)
			if stdout != "" {
				t.Errorf("stdout is not empty without a terminal: %q", stdout)
			}
			for _, want := range []string{"sha256", "http-wasm handler", "listening on http://127.0.0.1:", "admin"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("the %s log lacks %q:\n%s", format, want, stderr)
				}
			}
			if strings.Contains(stderr, "╭") || strings.Contains(stderr, "\x1b[") {
				t.Errorf("styling without a terminal:\n%s", stderr)
			}
			stdout, stderr = runPiped(t, args("--log-format", format, "--no-banner", "--no-url")...)
			if strings.Contains(stderr, "sha256") || strings.Contains(stderr, "listening on") || stdout != "" {
				t.Errorf("--no-banner --no-url still printed:\n%s%s", stdout, stderr)
			}
		})
	}
}

// runInPTY runs the binary with a pty as its terminal until it prints its
// URL (or, with --no-banner, its URL line), and returns what it printed.
func runInPTY(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	// A screen terminal: termenv then asks it nothing (no one answers
	// queries for the background colour on this pty) and still colours.
	// CI, NO_COLOR and CLICOLOR are dropped: termenv rightly paints nothing
	// under them, and a CI runner sets CI, so the test would see no colour.
	cmd.Env = append(terminalEnv(os.Environ()), "TERM=screen-256color")
	f, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait(); f.Close() }()
	var out testguest.SyncBuffer
	go io.Copy(&out, f)
	testguest.WaitFor(t, "the server to print its URL", func() bool {
		return strings.Contains(out.String(), "http://127.0.0.1:") && strings.Contains(out.String(), "admin")
	})
	time.Sleep(100 * time.Millisecond)
	return out.String()
}

// terminalEnv is env without the variables that tell termenv not to colour
// (CI, NO_COLOR, CLICOLOR, CLICOLOR_FORCE) or which terminal it is (TERM).
func terminalEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "CI", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TERM", "COLORTERM":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// runPiped runs the binary with pipes for stdout and stderr until it
// listens (its port file appears), then stops it, and returns both outputs.
func runPiped(t *testing.T, args ...string) (string, string) {
	t.Helper()
	pf := filepath.Join(t.TempDir(), "port")
	cmd := exec.Command(binary, append([]string{args[0], "--port-file", pf}, args[1:]...)...)
	var stdout, stderr testguest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	testguest.WaitFor(t, "the port file", func() bool {
		b, err := os.ReadFile(pf)
		return err == nil && len(b) > 0
	})
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	return stdout.String(), stderr.String()
}

// TestOTLPEndpoint: with --otlp-endpoint the server exports a span per
// request over OTLP/HTTP, in the trace of the request's traceparent; a bad
// URL is refused with the flag's name.
func TestOTLPEndpoint(t *testing.T) {
	recv := &testguest.OTLPReceiver{}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	cmd, base, stderr := startServer(t, "--otlp-endpoint", collector.URL, "--isolates", "1",
		testguest.Path("guest-examples/hello-wat/hello.wasm"))
	req, _ := http.NewRequest("GET", base+"/traced", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cmd.Process.Signal(syscall.SIGTERM) // exiting sends what is batched
	if code := waitExit(t, cmd, stderr); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	var names []string
	for _, s := range recv.Spans() {
		names = append(names, s.Name)
		if hex.EncodeToString(s.TraceId) != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("span %s in another trace", s.Name)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"GET", "guest"}) {
		t.Errorf("spans %q, want GET and guest", names)
	}

	out, err := exec.Command(binary, "serve", "--otlp-endpoint", "localhost:4318", "--no-cache",
		testguest.Path("guest-examples/hello-wat/hello.wasm")).CombinedOutput()
	if !strings.Contains(string(out), `--otlp-endpoint "localhost:4318" is not an http:// or https:// URL`) || err == nil {
		t.Errorf("a bad endpoint: %v\n%s", err, out)
	}
}

// TestGCHeapFloor: by default the server raises the garbage collector's
// percent while its live heap is small (--gc-heap-floor 64MiB), as the
// Go collector's go_gc_gogc_percent shows; --gc-heap-floor 0 leaves Go's
// 100.
func TestGCHeapFloor(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: the server keeps it")
	}
	t.Parallel()
	gogc := regexp.MustCompile(`(?m)^go_gc_gogc_percent ([0-9.e+]+)$`)
	for _, c := range []struct {
		name  string
		flags []string
		above bool // above 100, else exactly 100
	}{
		{"default floor", nil, true},
		{"floor off", []string{"--gc-heap-floor", "0"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, stderr := startServer(t, append(c.flags, "--admin", "127.0.0.1:0", testguest.Path("guest-examples/hello-wat/hello.wasm"))...)
			_, body := get(t, adminURL(t, stderr)+"/metrics")
			m := gogc.FindStringSubmatch(body)
			if m == nil {
				t.Fatal("/metrics has no go_gc_gogc_percent")
			}
			p, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			if c.above && p <= 100 || !c.above && p != 100 {
				t.Errorf("go_gc_gogc_percent %v (above 100 wanted: %v)", p, c.above)
			}
		})
	}
}
