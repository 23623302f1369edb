package testguest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// NPMToolsEnv names the directory holding node_modules with
// @bytecodealliance/componentize-js and jco, which the component guests
// are built with; unset, /tmp/npmtools and then the PATH are tried.
const NPMToolsEnv = "NPMTOOLS"

// RequireComponentsEnv, set to 1, makes a test that cannot build a
// component guest fail instead of skipping: CI sets it.
const RequireComponentsEnv = "WASMSERVE_REQUIRE_COMPONENTS"

// NPMTools returns the directory whose node_modules/.bin has
// componentize-js, or "" when there is none.
func NPMTools() string {
	for _, d := range []string{os.Getenv(NPMToolsEnv), "/tmp/npmtools"} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "node_modules", ".bin", "componentize-js")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("componentize-js"); err == nil {
		// .../node_modules/.bin/componentize-js
		return filepath.Dir(filepath.Dir(filepath.Dir(p)))
	}
	return ""
}

var components sync.Map // guest directory → *componentBuild

type componentBuild struct {
	once sync.Once
	path string
	err  error
	skip string
}

// BuildComponent builds the component guest in dir (relative to the
// repository) with its build.sh, once per content of its files: the result
// is kept in the user's cache directory, since componentize-js takes tens
// of seconds. Without the npm tools the test is skipped, or fails with
// RequireComponentsEnv set.
func BuildComponent(tb testing.TB, dir string) string {
	tb.Helper()
	v, _ := components.LoadOrStore(dir, &componentBuild{})
	b := v.(*componentBuild)
	b.once.Do(func() { b.path, b.skip, b.err = buildComponent(dir) })
	if b.skip != "" {
		if os.Getenv(RequireComponentsEnv) == "1" {
			tb.Fatalf("%s (and %s=1)", b.skip, RequireComponentsEnv)
		}
		tb.Skip(b.skip)
	}
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}

func buildComponent(dir string) (path, skip string, err error) {
	tools := NPMTools()
	if tools == "" {
		return "", "componentize-js not found (in $" + NPMToolsEnv + ", /tmp/npmtools or on the PATH): " + dir + " cannot be built", nil
	}
	src := Path(dir)
	entries, err := os.ReadDir(src)
	if err != nil {
		return "", "", err
	}
	h := sha256.New()
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) == ".wasm" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return "", "", err
		}
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(b))
		h.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	outDir := filepath.Join(cache, "wasmserve-test", filepath.Base(dir))
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", "", err
	}
	out := filepath.Join(outDir, hex.EncodeToString(h.Sum(nil)[:12])+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out, "", nil
	}
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	cmd := exec.Command("sh", filepath.Join(src, "build.sh"), tmp)
	cmd.Env = append(os.Environ(), NPMToolsEnv+"="+tools)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", "", fmt.Errorf("building %s: %v\n%s", dir, err, b)
	}
	return out, "", os.Rename(tmp, out)
}
