package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		wantCode int
		wantOut  []string
	}{
		{"runnable handler", "host/testdata/middleware.wasm", 0,
			[]string{"abi:             http-wasm handler", "provided:        get_uri, set_header_value, set_uri", "memory:          min 1 pages (64 KiB), no maximum", "result:          ok"}},
		{"reactor", "host/testdata/bufresp.wasm", 0, []string{"start:           _initialize"}},
		{"unknown import", "cmd/wasmserve/testdata/badimport.wasm", 1, []string{"unknown:         get_moon_phase", "problems:"}},
		{"no handle_request", "cmd/wasmserve/testdata/nohandler.wasm", 1, []string{"missing exports: handle_request"}},
		{"_start ending in proc_exit(0)", "abi/testdata/procexit.wasm", 1, []string{"other imports:   wasi_snapshot_preview1.proc_exit", "proc_exit(0)"}},
		{"CGI command", "guest-examples/cgi-c/hello.wasm", 0, []string{"abi:             CGI (WASI command) (it is a WASI command: it exports _start", "start:           _start", "result:          ok"}},
		{"start function traps", "cmd/wasmserve/testdata/badstart.wasm", 1, []string{"starting an isolate", "unreachable"}},
		{"built for GOOS=js", "cmd/wasmserve/testdata/gojs.wasm", 1, []string{"was built with GOOS=js (it imports gojs), which runs only under JavaScript: rebuild it with GOOS=wasip1 GOARCH=wasm"}},
		{"tables above the bound together", "cmd/wasmserve/testdata/tables.wasm", 1,
			[]string{"starting an isolate: the module's tables need 1200000 elements at start in all (2 tables so far), above the 1048576"}},
		{"each import once", "cmd/wasmserve/testdata/dupimport.wasm", 0, []string{"other imports:   wasi_snapshot_preview1.fd_write\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"wasmserve", "check", testguest.Path(tc.file)}, &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, stdout.String())
				}
			}
			if tc.wantCode == 1 && !strings.Contains(stderr.String(), "cannot run") {
				t.Errorf("stderr does not say the module cannot run:\n%s", stderr.String())
			}
		})
	}
}

func TestCheckABIFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"wasmserve", "check", "--abi", "cgi", testguest.Path("host/testdata/middleware.wasm")}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stdout.String(), "CGI (WASI command) (chosen by configuration)") ||
		!strings.Contains(stdout.String(), `does not export "_start"`) || !strings.Contains(stdout.String(), "imports http_handler.") {
		t.Errorf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	code = run([]string{"wasmserve", "check", "--abi", "fastcgi", testguest.Path("host/testdata/middleware.wasm")}, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "auto, http-wasm, cgi") {
		t.Errorf("unknown ABI: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

func TestGuestFlagErrors(t *testing.T) {
	mod := testguest.Path("host/testdata/middleware.wasm")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"upstream without scheme", []string{"--upstream", "localhost:9000"}, "--upstream: upstream \"localhost:9000\": want an http:// or https:// URL"},
		{"upstream with a query", []string{"--upstream", "http://o/?a=1"}, "a query or fragment is not allowed"},
		{"both config flags", []string{"--guest-config", "x", "--guest-config-string", "y"}, "exclusive"},
		{"missing config file", []string{"--guest-config", filepath.Join(t.TempDir(), "nope")}, "--guest-config: open"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(append(append([]string{"wasmserve", "serve"}, tc.args...), mod), io.Discard, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}

// TestServeMiddlewareMode runs the binary in front of an upstream, with the
// guest config from a file.
func TestServeMiddlewareMode(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.RequestURI+" "+r.Header.Get("X-Edge"))
	}))
	defer up.Close()
	cfg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfg, []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, base, stderr := startServer(t, "--upstream", up.URL, "--guest-config", cfg,
		testguest.Path("host/testdata/middleware.wasm"))
	if code, body := get(t, base+"/users?id=1"); code != 200 || body != "/v2/users?id=1 wasmserve" {
		t.Errorf("got %d %q; stderr:\n%s", code, body, stderr)
	}

	_, base2, _ := startServer(t, "--guest-config-string", "hello config",
		testguest.Path("host/testdata/configlog.wasm"))
	if code, body := get(t, base2+"/"); code != 200 || body != "hello config" {
		t.Errorf("got %d %q", code, body)
	}
}
