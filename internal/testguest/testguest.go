// Package testguest builds the Go guest examples for tests, once per test
// binary or, with CacheEnv set, once per run of them all, so that
// `make test` needs nothing but Go.
package testguest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// CacheEnv names the environment variable that holds a directory shared
// by the test binaries of one run (`make test` makes one and removes it
// after): the guests they build and the compilation cache land there, so
// that a guest is built, and a module compiled, once for all the packages
// rather than once for each. Without it every test binary has a temporary
// directory of its own, which Main removes.
//
// The directory is for one run, not to keep: a test binary carries no
// module versions, so wazero files what it compiles there under version
// "dev", and after an upgrade of wazero would load the old one's code.
const CacheEnv = "WASMSERVE_TEST_CACHE"

var (
	mu     sync.Mutex
	guests = map[string]*guest{} // by package and build mode
	dir    string                // this binary's own directory, without CacheEnv
)

// guest is one build of a guest package, which the tests that ask for the
// same package while it is under way wait for.
type guest struct {
	done chan struct{} // closed when path or err is set
	path string
	err  error
}

// Root returns the repository root, found from this file's location.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Path returns the path of a file in the repository.
func Path(rel string) string { return filepath.Join(Root(), rel) }

// Build compiles guest-examples/<name> with GOOS=wasip1 -buildmode=c-shared
// and returns the .wasm path. Later calls reuse it: in the same test binary,
// and, with CacheEnv set, in every binary of the run.
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

// build returns the path of pkg built in mode, building it unless this
// binary has already or, in the shared directory, another one has. A build
// that fails is not remembered: the next test to ask tries again.
func build(tb testing.TB, pkg, mode string) string {
	tb.Helper()
	pkg = path.Clean(filepath.ToSlash(pkg))
	key := pkg + " " + mode
	mu.Lock()
	g, ok := guests[key]
	if !ok {
		g = &guest{done: make(chan struct{})}
		guests[key] = g
	}
	mu.Unlock()
	if ok {
		<-g.done
	} else {
		g.path, g.err = buildShared(pkg, mode)
		if g.err != nil {
			mu.Lock()
			delete(guests, key)
			mu.Unlock()
		}
		close(g.done)
	}
	if g.err != nil {
		tb.Fatal(g.err)
	}
	return g.path
}

// buildShared returns the path of pkg built in mode in the guests
// directory of baseDir, named by the package, the mode and sourceSum. The
// first binary to want it builds it under a lock (see lockFile) that the
// others wait on, then find the file made; the file appears whole, by a
// rename, so that a binary that looks without the lock never reads half
// of one.
func buildShared(pkg, mode string) (string, error) {
	base, err := baseDir()
	if err != nil {
		return "", err
	}
	sum, err := sourceSum(Root(), pkg, mode)
	if err != nil {
		return "", err
	}
	name := strings.NewReplacer("/", "_", ".", "_").Replace(pkg) + "." + kind(mode) + "-" + sum
	gdir := filepath.Join(base, "guests")
	out := filepath.Join(gdir, name+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(gdir, 0o755); err != nil {
		return "", fmt.Errorf("making the guests directory: %w", err)
	}
	unlock, err := lockFile(filepath.Join(gdir, name+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	return out, goBuild(pkg, mode, out)
}

// kind names a build mode: "c-shared", or "command" for none.
func kind(mode string) string {
	if mode == "" {
		return "command"
	}
	return strings.TrimPrefix(mode, "-buildmode=")
}

// onBuild, when set, is called as each build starts (a test counts them).
var onBuild func(pkg, mode string)

// goBuild builds pkg in mode into a temporary directory next to out, then
// renames the module to out.
func goBuild(pkg, mode, out string) error {
	if onBuild != nil {
		onBuild(pkg, mode)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), filepath.Base(out)+".*.tmp")
	if err != nil {
		return fmt.Errorf("building guest %s: %w", pkg, err)
	}
	defer os.RemoveAll(tmp)
	wasm := filepath.Join(tmp, "guest.wasm")
	args := []string{"build", "-o", wasm}
	if mode != "" {
		args = append(args, mode)
	}
	cmd := exec.Command("go", append(args, "./"+pkg)...)
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building guest %s (%s): %v\n%s", pkg, kind(mode), err, b)
	}
	if err := os.Rename(wasm, out); err != nil {
		return fmt.Errorf("building guest %s: %w", pkg, err)
	}
	return nil
}

// sdkDir is the guest SDK, which every Go guest's build may depend on.
const sdkDir = "abi/guest"

// sourceSum returns, in hex, part of a SHA-256 of what a build of pkg in
// mode depends on in the repository at root and beyond: the toolchain's
// version, GOFLAGS and GOWASM, every file below pkg's directory and the
// SDK's, and go.mod and go.sum (each file's path, length and contents). A
// guest or SDK edited between two runs on the same directory, or during a
// run, is built again rather than taken from an earlier build. A guest
// that imported a package of the module outside those two would need it
// added here.
func sourceSum(root, pkg, mode string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00", runtime.Version(), os.Getenv("GOFLAGS"), os.Getenv("GOWASM"), pkg, mode)
	add := func(rel string) error {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		h.Write(binary.LittleEndian.AppendUint64([]byte(filepath.ToSlash(rel)+"\x00"), uint64(len(b))))
		h.Write(b)
		return nil
	}
	for _, d := range []string{pkg, sdkDir} {
		err := filepath.WalkDir(filepath.Join(root, d), func(p string, e fs.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			return add(rel)
		})
		if err != nil {
			return "", fmt.Errorf("hashing the sources of guest %s: %w", pkg, err)
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := add(f); err != nil {
			return "", fmt.Errorf("hashing the sources of guest %s: %w", pkg, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12]), nil
}

// baseDir returns the directory for guests and the compilation cache: the
// one CacheEnv names, or else this binary's own, made on first use.
func baseDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("%s=%q: not an absolute path", CacheEnv, d)
		}
		return d, nil
	}
	mu.Lock()
	defer mu.Unlock()
	if dir == "" {
		d, err := os.MkdirTemp("", "wasmserve-guests-")
		if err != nil {
			return "", fmt.Errorf("making the guests directory: %w", err)
		}
		dir = d
	}
	return dir, nil
}

// Main runs the tests of a package that uses this one, then removes this
// binary's directory of the guests built and the compilation cache, which
// would otherwise outlive the test binary (tens of megabytes each run). The
// directory CacheEnv names is left for whoever made it. Call it from
// TestMain as os.Exit(testguest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
		dir, guests = "", map[string]*guest{}
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
// one binary, or with CacheEnv set by every binary of the run, so that each
// module is compiled once. wazero keys its entries by the module's contents
// and writes each through a temporary file and a rename, so binaries that
// compile the same module at once each find a whole entry or none.
func CacheDir(tb testing.TB) string {
	tb.Helper()
	base, err := baseDir()
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(base, "cache")
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
