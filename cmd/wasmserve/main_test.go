package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// binary is the wasmserve command built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wasmserve-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "wasmserve")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building wasmserve: %v\n%s", err, out)
		os.Exit(1)
	}
	code := testguest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestBadInput: every mistake gets one line on stderr that names what was
// wrong, exit code 1, and no stack trace.
func TestBadInput(t *testing.T) {
	hello := testguest.Path("guest-examples/hello-wat/hello.wasm")
	td := func(name string) string { return filepath.Join("testdata", name) }
	cases := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"missing file", []string{"serve", "nope.wasm"}, nil, "module nope.wasm: no such file"},
		{"missing file as default command", []string{"nope.wasm"}, nil, "module nope.wasm: no such file"},
		{"not wasm", []string{"serve", td("notwasm.wasm")}, nil, "is not a WebAssembly binary"},
		{"no handle_request", []string{"serve", td("nohandler.wasm")}, nil, `does not export "handle_request"`},
		{"built for GOOS=js", []string{"serve", td("gojs.wasm")}, nil, "module was built with GOOS=js (it imports gojs), which runs only under JavaScript: rebuild it with GOOS=wasip1"},
		{"no memory", []string{"serve", td("nomemory.wasm")}, nil, `does not export "memory"`},
		{"unknown import", []string{"serve", td("badimport.wasm")}, nil, "http_handler.get_moon_phase"},
		// 15 bytes declaring 2^32-1 imports: wazero alone runs out of memory.
		{"vector count beyond its section", []string{"serve", td("importcount.wasm")}, nil,
			"import section, offset 10: import count 4294967295 exceeds the 0 bytes left in the section"},
		{"vector count beyond its section, check", []string{"check", td("importcount.wasm")}, nil,
			"import section, offset 10: import count 4294967295 exceeds the 0 bytes left in the section"},
		// Two tables within the bound one by one, above it together.
		{"tables above the bound together", []string{"serve", td("tables.wasm")}, nil,
			"the module's tables need 1200000 elements at start in all (2 tables so far), above the 1048576 its tables may have together"},
		// component.wasm: the preamble of a component and one core module
		// section holding an empty core module (18 bytes, written with
		// printf '\x00asm\x0d\x00\x01\x00\x01\x08\x00asm\x01\x00\x00\x00').
		{"component", []string{"serve", td("component.wasm")}, nil, "this component exports nothing, which no executor runs (wasmserve runs components exporting wasi:http/incoming-handler@0.2.x)"},
		{"component, check", []string{"check", td("component.wasm")}, nil, "this component exports nothing, which no executor runs (wasmserve runs components exporting wasi:http/incoming-handler@0.2.x)"},
		// A component of the async proposal (WASI 0.3) is refused at load,
		// naming what is not supported.
		{"async component", []string{"serve", testguest.Path("runtimepool/component/testdata/stream.wasm")}, nil,
			"the stream type is not supported: wasmserve runs synchronous WASI 0.2 components"},
		{"async component, check", []string{"check", testguest.Path("runtimepool/component/testdata/stream.wasm")}, nil,
			"the stream type is not supported"},
		{"core module with --abi wasi-http", []string{"serve", "--abi", "wasi-http", hello}, nil,
			"--abi wasi-http runs WebAssembly components (WASI 0.2), and this is a core module; leave --abi at auto"},
		{"start function traps", []string{"serve", "--no-cache", td("badstart.wasm")}, nil, "_initialize"},
		{"unknown flag", []string{"serve", "--bogus", hello}, nil, "--bogus is not a flag (run 'wasmserve serve --help' for the flags)"},
		{"bad heap floor", []string{"serve", "--gc-heap-floor", "lots", hello}, nil, `--gc-heap-floor: "lots" is not a size`},
		{"misspelt flag", []string{"serve", "--isolate", "2", hello}, nil, "--isolate is not a flag; did you mean --isolates?"},
		{"duration without a unit", []string{"serve", "--handler-timeout", "5", hello}, nil, `--handler-timeout "5": not a duration: give a number with a unit, such as 5s`},
		{"not a whole number", []string{"serve", "--isolates", "abc", hello}, nil, `--isolates "abc": not a whole number`},
		{"not a whole number from env", []string{"serve", hello}, []string{"WASMSERVE_ISOLATES=abc"}, `WASMSERVE_ISOLATES "abc" (--isolates): not a whole number`},
		{"size without a unit", []string{"serve", "--memory-limit", "64", hello}, nil, "(a size takes a unit: 64MiB, 1GiB)"},
		{"negative isolates", []string{"serve", "--isolates", "-1", hello}, nil, "--isolates must be 0 (one per CPU) or more, got -1"},
		{"negative isolates from env", []string{"serve", hello}, []string{"WASMSERVE_ISOLATES=-2"}, "--isolates must be 0 (one per CPU) or more, got -2"},
		{"isolates not a number", []string{"serve", "--isolates", "many", hello}, nil, "isolates"},
		{"bad log format", []string{"serve", "--log-format", "xml", hello}, nil, `--log-format "xml" is not a format`},
		{"bad log level", []string{"serve", "--log-level", "loud", hello}, nil, `--log-level "loud" is not a level`},
		{"bad memory limit", []string{"serve", "--memory-limit", "lots", hello}, nil, "--memory-limit"},
		{"negative read timeout", []string{"serve", "--read-timeout", "-1s", hello}, nil, "--read-timeout must be 0 or more, got -1s"},
		{"negative write timeout", []string{"serve", "--write-timeout", "-1s", hello}, nil, "--write-timeout must be 0 or more, got -1s"},
		{"no module", []string{"serve"}, nil, "serve takes one module file, got 0"},
		{"two modules", []string{"serve", hello, hello}, nil, "serve takes one module file, got 2"},
		{"port out of range", []string{"serve", "--port", "70000", hello}, nil, "port 70000 is out of range"},
		{"unresolvable address", []string{"serve", "--address", "no-such-host.invalid", hello}, nil, `address "no-such-host.invalid" does not resolve`},
		{"bad outbound pattern", []string{"serve", "--allow-outbound", "ftp://files.example", hello}, nil, `--allow-outbound: outbound pattern "ftp://files.example"`},
		{"bad blocked network", []string{"serve", "--block-networks", "10.0.0.0/33", hello}, nil, `--block-networks: "10.0.0.0/33" is not a CIDR`},
		{"negative outbound cap", []string{"serve", "--max-outbound-per-request", "-1", hello}, nil, "--max-outbound-per-request must be 0 (no bound) or more, got -1"},
		{"missing outbound CA", []string{"serve", "--outbound-ca", "nope.pem", hello}, nil, "--outbound-ca: open nope.pem"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(binary, c.args...)
			cmd.Env = append(os.Environ(), c.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := -1
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err == nil {
				code = 0
			}
			out := stderr.String()
			if code != 1 {
				t.Errorf("exit code %d, want 1; stderr:\n%s", code, out)
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("stderr does not say %q:\n%s", c.want, out)
			}
			if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") {
				t.Errorf("stderr holds a stack trace:\n%s", out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "wasmserve: ") || !strings.Contains(last, c.want) {
				t.Errorf("the message is not one line starting with 'wasmserve: ':\n%s", out)
			}
		})
	}
}

// TestUsage: no arguments print the usage on stderr and exit 2; a word that
// is no command and no module says so, with the command meant where one is
// near, and exits 2.
func TestUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no arguments", nil, "usage: wasmserve [serve] [flags] MODULE.wasm"},
		{"not a command", []string{"handler"}, `wasmserve: "handler" is not a command (a module file ends in .wasm`},
		{"misspelt command", []string{"chek", "x.wasm"}, `wasmserve: "chek" is not a command; did you mean "check"?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(binary, c.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
				t.Errorf("exit %v, want 2", err)
			}
			if !strings.Contains(stderr.String(), c.want) || stdout.Len() != 0 {
				t.Errorf("stderr %q (stdout %q), want %q on stderr", stderr.String(), stdout.String(), c.want)
			}
		})
	}
}

// startServer runs the binary with args plus --port 0 and a port file, and
// returns the process and its base URL once it listens.
func startServer(t *testing.T, args ...string) (*exec.Cmd, string, *testguest.SyncBuffer) {
	t.Helper()
	pf := filepath.Join(t.TempDir(), "port")
	cmd := exec.Command(binary, append([]string{"serve", "--port", "0", "--port-file", pf, "--address", "127.0.0.1",
		"--cache-dir", testguest.CacheDir(t)}, args...)...)
	stderr := new(testguest.SyncBuffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(pf)
		if err == nil && len(b) > 0 {
			port, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatalf("port file holds %q", b)
			}
			return cmd, "http://127.0.0.1:" + strconv.Itoa(port), stderr
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no port file after 60s; stderr:\n%s", stderr)
	return nil, "", nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeAndInterrupt: the hello guest answers, the banner and URL line are
// logged, and SIGINT with an idle keep-alive connection open exits 0 within
// a second.
func TestServeAndInterrupt(t *testing.T) {
	cmd, base, stderr := startServer(t, "--isolates", "2", testguest.Build(t, "hello"))
	if code, body := get(t, base+"/x"); code != 200 || body != "Hello from wasmserve: /x\n" {
		t.Fatalf("got %d %q", code, body)
	}
	// An idle keep-alive connection must not hold shutdown up.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, 4096)
	if _, err := conn.Read(buf); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v; stderr:\n%s", err, stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5s after SIGINT; stderr:\n%s", stderr)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("shutdown took %v, want under a second", d)
	}
	log := stderr.String()
	for _, want := range []string{"wasmserve ", "abi=\"http-wasm handler\"", "isolates=2", "compile=", "cache=", "listening on " + base + "/", "stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	// The access log is buffered: its last lines come out before
	// "stopped", not after it.
	if a, s := strings.Index(log, "/idle"), strings.Index(log, "stopped"); a < 0 || a > s {
		t.Errorf("the access line of /idle is not before \"stopped\":\n%s", log)
	}
}

// TestDefaultCommandAndEnv: "wasmserve MODULE.wasm" serves, flags come from
// WASMSERVE_* variables, and --no-banner/--no-url silence start-up.
func TestDefaultCommandAndEnv(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "port")
	cmd := exec.Command(binary, testguest.Path("guest-examples/hello-wat/hello.wasm"))
	cmd.Env = append(os.Environ(), "WASMSERVE_PORT=0", "WASMSERVE_PORT_FILE="+pf,
		"WASMSERVE_ADDRESS=loopback", "WASMSERVE_NO_BANNER=1", "WASMSERVE_NO_URL=true", "WASMSERVE_NO_CACHE=1")
	stderr := new(testguest.SyncBuffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var port []byte
	for i := 0; i < 500 && len(port) == 0; i++ {
		port, _ = os.ReadFile(pf)
		time.Sleep(10 * time.Millisecond)
	}
	if len(port) == 0 {
		t.Fatalf("no port file; stderr:\n%s", stderr)
	}
	if code, body := get(t, "http://127.0.0.1:"+strings.TrimSpace(string(port))+"/env"); code != 200 || body != "Hello from wasmserve: /env\n" {
		t.Errorf("got %d %q", code, body)
	}
	if s := stderr.String(); strings.Contains(s, "listening on") || strings.Contains(s, "isolates=") {
		t.Errorf("--no-banner/--no-url via env did not silence start-up:\n%s", s)
	}
}

// TestVersion: `wasmserve version` and `wasmserve --version` print the
// same line, naming wasmserve's version, Go's and wazero's.
func TestVersion(t *testing.T) {
	var first string
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(binary, args...).Output()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.HasPrefix(string(out), "wasmserve ") || !strings.Contains(string(out), "wazero v1.") {
			t.Errorf("%v printed %q", args, out)
		}
		if first == "" {
			first = string(out)
		} else if string(out) != first {
			t.Errorf("%v printed %q, version printed %q", args, out, first)
		}
	}
}

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"128MiB", 128 << 20, true},
		{"10MB", 10_000_000, true},
		{"64k", 64 << 10, true},
		{"4096", 4096, true},
		{" 1 GiB ", 1 << 30, true},
		{"", 0, false},
		{"MiB", 0, false},
		{"12parsecs", 0, false},
		{"-1MiB", 0, false},
		{"99999999999999999999GiB", 0, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := parseSize(c.in)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d ok=%v", c.in, got, err, c.want, c.ok)
			}
		})
	}
}

// TestRenewBanner: with --max-requests-per-isolate the banner says how
// isolates are renewed, and why not by a reset when they cannot be.
func TestRenewBanner(t *testing.T) {
	cases := []struct {
		name   string
		module func(t *testing.T) string
		want   string
	}{
		{"WAT guest is reset", func(*testing.T) string { return testguest.Path("guest-examples/hello-wat/hello.wasm") },
			"renewed by resetting their memory and globals"},
		{"Go guest gets new instances", func(t *testing.T) string { return testguest.Build(t, "hello") },
			"renewed by new instances, which is slower: the module cannot be reset because it imports wasi_snapshot_preview1."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, base, stderr := startServer(t, "--isolates", "1", "--max-requests-per-isolate", "1", c.module(t))
			for i := range 3 {
				if code, body := get(t, base+"/r"); code != 200 || body != "Hello from wasmserve: /r\n" {
					t.Fatalf("request %d: %d %q", i, code, body)
				}
			}
			if log := stderr.String(); !strings.Contains(log, c.want) {
				t.Errorf("log lacks %q:\n%s", c.want, log)
			}
		})
	}
}
