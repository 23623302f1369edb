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
)

// childEnv, set, makes TestSharedBuildChild build the tiny guest and print
// its path, appending a line to the file it names for each build it runs.
const childEnv = "WASMSERVE_TESTGUEST_CHILD"

// haveLock reports whether lockFile locks on this platform.
var haveLock = map[string]bool{"linux": true, "darwin": true, "freebsd": true,
	"netbsd": true, "openbsd": true, "dragonfly": true}[runtime.GOOS]

// TestSharedBuild: test binaries that ask for the same guest at once, with
// CacheEnv naming one directory, get the same whole module, built once, and
// leave no temporary file behind.
func TestSharedBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a guest")
	}
	dir := t.TempDir()
	builds := filepath.Join(dir, "builds.log")
	const children = 3
	paths := make([]string, children)
	var wg sync.WaitGroup
	for i := range children {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSharedBuildChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), CacheEnv+"="+dir, childEnv+"="+builds)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("child %d: %v\n%s%s", i, err, out, stderr.Bytes())
				return
			}
			for line := range strings.Lines(string(out)) {
				if p, ok := strings.CutPrefix(line, "guest "); ok {
					paths[i] = strings.TrimSpace(p)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, p := range paths {
		if p == "" || p != paths[0] {
			t.Fatalf("child %d built %q, child 0 %q", i, p, paths[0])
		}
	}
	if filepath.Dir(paths[0]) != filepath.Join(dir, "guests") {
		t.Errorf("guest at %s, want it in %s", paths[0], filepath.Join(dir, "guests"))
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x00asm")) {
		t.Errorf("the guest starts % x, not a WebAssembly module", b[:min(len(b), 8)])
	}
	log, err := os.ReadFile(builds)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "\n"); n != 1 && haveLock {
		t.Errorf("%d builds of one guest, want 1:\n%s", n, log)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "guests", "*.tmp"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestSharedBuildChild is TestSharedBuild's child.
func TestSharedBuildChild(t *testing.T) {
	builds := os.Getenv(childEnv)
	if builds == "" {
		t.Skip("run by TestSharedBuild")
	}
	onBuild = func(pkg, mode string) {
		f, err := os.OpenFile(builds, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if _, err := f.WriteString(pkg + " " + mode + "\n"); err != nil {
			t.Error(err)
		}
	}
	// Each build also waits for the lock in this process.
	var wg sync.WaitGroup
	var a, b string
	wg.Go(func() { a = BuildCommand(t, "internal/testguest/testdata/tiny") })
	wg.Go(func() { b = BuildCommand(t, "internal/testguest/testdata/../testdata/tiny") })
	wg.Wait()
	if a != b {
		t.Fatalf("one package built as %s and %s", a, b)
	}
	os.Stdout.WriteString("guest " + a + "\n")
}

// TestSourceSum: the key of a build changes with the guest's sources, the
// SDK's, go.mod and the build mode, and only with them.
func TestSourceSum(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n")
	write("go.sum", "")
	write("g/main.go", "package main\n")
	write("g/sub/sub.go", "package sub\n")
	write(sdkDir+"/sdk.go", "package guest\n")
	write("other/other.go", "package other\n")
	sum := func(pkg, mode string) string {
		t.Helper()
		s, err := sourceSum(root, pkg, mode)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	seen := map[string]string{}
	key := func(what, s string) {
		t.Helper()
		if prev, ok := seen[s]; ok {
			t.Errorf("%s: the same key as %s", what, prev)
		}
		seen[s] = what
	}
	first := sum("g", "-buildmode=c-shared")
	key("first", first)
	if again := sum("g", "-buildmode=c-shared"); again != first {
		t.Errorf("the same sources: key %s, then %s", first, again)
	}
	write("other/other.go", "package other // edited\n")
	if s := sum("g", "-buildmode=c-shared"); s != first {
		t.Errorf("a package the guest does not import changed the key")
	}
	key("command mode", sum("g", ""))
	write("g/main.go", "package main // edited\n")
	key("guest edited", sum("g", "-buildmode=c-shared"))
	write("g/sub/sub.go", "package sub // edited\n")
	key("guest's subpackage edited", sum("g", "-buildmode=c-shared"))
	write(sdkDir+"/sdk.go", "package guest // edited\n")
	key("SDK edited", sum("g", "-buildmode=c-shared"))
	write("go.mod", "module example.com/m\n\ngo 1.26\n")
	key("go.mod edited", sum("g", "-buildmode=c-shared"))
	if _, err := sourceSum(root, "missing", ""); err == nil || !strings.Contains(err.Error(), "guest missing") {
		t.Errorf("a missing package: error %v, want one naming the guest", err)
	}
}

// TestRelativeCacheDir: CacheEnv must name an absolute directory, as the
// test binaries of one run each start in a directory of their own.
func TestRelativeCacheDir(t *testing.T) {
	t.Setenv(CacheEnv, "relative/dir")
	if _, err := baseDir(); err == nil || !strings.Contains(err.Error(), CacheEnv) {
		t.Errorf("error %v, want one naming %s", err, CacheEnv)
	}
}
