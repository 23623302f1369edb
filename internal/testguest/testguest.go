// Package testguest builds the Go guest examples for tests, once per test
// binary, so that `make test` needs nothing but Go.
package testguest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	mu    sync.Mutex
	built = map[string]string{}
	dir   string
)

// Root returns the repository root, found from this file's location.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Path returns the path of a file in the repository.
func Path(rel string) string { return filepath.Join(Root(), rel) }

// Build compiles guest-examples/<name> with GOOS=wasip1 -buildmode=c-shared
// and returns the .wasm path. Later calls in the same test binary reuse it.
func Build(tb testing.TB, name string) string {
	tb.Helper()
	return BuildPackage(tb, "guest-examples/"+name)
}

// BuildPackage compiles the guest package at pkg, a directory relative to
// the repository root (a testdata directory works too), like Build.
func BuildPackage(tb testing.TB, pkg string) string {
	tb.Helper()
	return build(tb, pkg, "-buildmode=c-shared")
}

// BuildCommand compiles the guest package at pkg, relative to the
// repository root, as a WASI command (GOOS=wasip1, no -buildmode: a module
// that exports _start), like Build.
func BuildCommand(tb testing.TB, pkg string) string {
	tb.Helper()
	return build(tb, pkg, "")
}

func build(tb testing.TB, pkg, mode string) string {
	tb.Helper()
	name := pkg + mode
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "wasmserve-guests-")
		if err != nil {
			tb.Fatal(err)
		}
		dir = d
	}
	out := filepath.Join(dir, strings.NewReplacer("/", "_", "=", "_").Replace(name)+".wasm")
	args := []string{"build", "-o", out}
	if mode != "" {
		args = append(args, mode)
	}
	cmd := exec.Command("go", append(args, "./"+pkg)...)
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building guest %s: %v\n%s", name, err, b)
	}
	built[name] = out
	return out
}

// Main runs the tests of a package that uses this one, then removes the
// directory of the guests built and the compilation cache, which would
// otherwise outlive the test binary (tens of megabytes each run). Call it
// from TestMain as os.Exit(testguest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
		dir, built = "", map[string]string{}
	}
	return code
}

// Read builds (if needed) and reads guest name.
func Read(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(Build(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// CacheDir returns a compilation cache directory shared by the tests of
// one binary, so that each module is compiled once.
func CacheDir(tb testing.TB) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if dir == "" {
		d, err := os.MkdirTemp("", "wasmserve-guests-")
		if err != nil {
			tb.Fatal(err)
		}
		dir = d
	}
	return filepath.Join(dir, "cache")
}

// SyncBuffer is a bytes.Buffer that a logger or a child process's output
// copier can write while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitFor polls cond every 2 ms until it holds, failing the test after 20 s
// with what it was waiting for.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
