package wasihttp

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

// TestComponentC serves the C example (committed, built by its build.sh
// with clang, wasi-libc and jco's preview1 reactor adapter).
func TestComponentC(t *testing.T) {
	var stderr testguest.SyncBuffer
	c, f := loadComponent(t, testguest.Path("guest-examples/component-c/router.wasm"), wasip2.Config{Stderr: &stderr}, Config{})
	srv := httptest.NewServer(serveHandler(c, f, 0, nil))
	defer srv.Close()

	big := bytes.Repeat([]byte("0123456789"), 30<<10)
	tests := []struct {
		name, method, path string
		header             http.Header
		body               []byte
		status             int
		want               string
		wantHeader         string // x-multi's values
	}{
		{"path and query", "GET", "/a/b?x=1", nil, nil, 200, "hello from C: /a/b?x=1\n", ""},
		{"teapot", "GET", "/teapot", nil, nil, 418, "short and stout\n", ""},
		{"headers", "GET", "/headers", http.Header{"X-Test": {"one", "two"}}, nil, 200,
			"x-test values: 2\nx-test: one\nx-test: two\n", "one, two"},
		{"echo", "POST", "/echo", nil, []byte("ping"), 200, "ping", ""},
		{"echo 300 kB", "POST", "/echo", nil, big, 200, string(big), ""},
		{"method", "PUT", "/", nil, nil, 405, "method not allowed\n", ""},
		{"log", "GET", "/log", nil, nil, 200, "logged\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, bytes.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || string(got) != tt.want {
				t.Errorf("%s %s = %d %q (%d bytes), want %d %q", tt.method, tt.path, resp.StatusCode,
					trim(got), len(got), tt.status, trim([]byte(tt.want)))
			}
			if v := strings.Join(resp.Header.Values("X-Multi"), ", "); v != tt.wantHeader {
				t.Errorf("x-multi = %q, want %q", v, tt.wantHeader)
			}
		})
	}
	if !strings.Contains(stderr.String(), "component-c: hello from the guest\n") {
		t.Errorf("stderr %q lacks the guest's line", stderr.String())
	}
}

func trim(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}
