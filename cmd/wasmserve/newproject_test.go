package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// runIn runs the binary in dir with args and the environment env added,
// and returns its exit code, stdout and stderr.
func runIn(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// TestNewBuildServe: `wasmserve new` writes a project of each language,
// `wasmserve build` builds it, its own cases pass, and the server answers
// 200 with the template's greeting. Go takes the SDK of this checkout
// (--sdk); Rust needs cargo and the wasm32-unknown-unknown standard library,
// AssemblyScript npm and its registry, C clang and wasi-libc, WAT wat2wasm,
// JavaScript npm and its registry (componentize-js and jco): without them
// the case is skipped, saying what build said is missing.
func TestNewBuildServe(t *testing.T) {
	cases := []struct {
		lang   string
		flags  []string
		needs  string
		source string // the handler's source, which a broken build names
	}{
		{"go", []string{"--sdk", testguest.Root()}, "go", "main.go"},
		{"rust", nil, "cargo", "src/lib.rs"},
		{"assemblyscript", nil, "npm", "assembly/index.ts"},
		{"c", nil, "clang", "handler.c"},
		{"wat", nil, "wat2wasm", "handler.wat"},
		{"js", nil, "npm", "handler.js"},
	}
	for _, c := range cases {
		t.Run(c.lang, func(t *testing.T) {
			if _, err := exec.LookPath(c.needs); err != nil {
				t.Skipf("%s is not installed", c.needs)
			}
			dir := t.TempDir()
			name := "hello-" + c.lang
			code, out, errOut := runIn(t, dir, nil, append(append([]string{"new", "--lang", c.lang}, c.flags...), name)...)
			if code != 0 {
				t.Fatalf("new: exit %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, "wasmserve dev") {
				t.Errorf("new does not say what to run next:\n%s", out)
			}
			project := filepath.Join(dir, name)
			code, out, errOut = runIn(t, project, nil, "build")
			if code != 0 && (strings.Contains(errOut, "is not installed") || strings.Contains(errOut, "is missing:") ||
				strings.Contains(errOut, "could not reach its registry")) {
				t.Skipf("the %s toolchain is incomplete: %s", c.lang, errOut)
			}
			if code != 0 {
				t.Fatalf("build: exit %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(errOut, "built handler.wasm") {
				t.Errorf("build does not say what it built:\n%s", errOut)
			}
			if code, out, errOut := runIn(t, project, nil, "test", "--cache-dir", testguest.CacheDir(t), "handler.wasm", "cases.yaml"); code != 0 {
				t.Errorf("the project's own cases: exit %d\n%s%s", code, out, errOut)
			}
			_, base, stderr := startServer(t, filepath.Join(project, "handler.wasm"))
			got, body := get(t, base+"/hello?x=1")
			if want := "Hello from " + name + ": /hello?x=1\n"; got != 200 || body != want {
				t.Errorf("got %d %q, want 200 %q; log:\n%s", got, body, want, stderr)
			}

			// A source that does not compile: build fails, and the
			// compiler's message names the file and line.
			src := filepath.Join(project, filepath.FromSlash(c.source))
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(src, append(b, "\n) broken (\n"...), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut = runIn(t, project, nil, "build")
			at := regexp.MustCompile(regexp.QuoteMeta(path.Base(c.source)) + `[:(][0-9]`) // main.go:12, index.ts(12,1)
			if code != 1 || !strings.Contains(errOut, "wasmserve: build failed: ") || !at.MatchString(out+errOut) {
				t.Errorf("build of a broken %s: exit %d, want 1, build failed and a line of the file named:\n%s%s", c.source, code, out, errOut)
			}
		})
	}
}

// TestNewGoModule: a Go project's go.mod requires the SDK, and with --sdk
// replaces it with that checkout.
func TestNewGoModule(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := runIn(t, dir, nil, "new", "--sdk", testguest.Root(), "svc"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "svc", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"module svc\n", "require github.com/wasmserve/wasmserve v", "replace github.com/wasmserve/wasmserve => " + testguest.Root()} {
		if !strings.Contains(string(b), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, b)
		}
	}
}

// TestNewAndBuildMistakes: each mistake gets one line saying what was
// wrong and what to do, and exit 1.
func TestNewAndBuildMistakes(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runIn(t, dir, nil, "new", "--lang", "wat", "taken"); code != 0 {
		t.Fatalf("new: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runIn(t, dir, nil, "new", "--sdk", testguest.Root(), "untidy"); code != 0 {
		t.Fatalf("new: exit %d: %s", code, errOut)
	}
	// An import go.mod does not provide, with a go.sum: build runs no
	// go mod tidy, and go build fails.
	untidy := filepath.Join(dir, "untidy")
	src, _ := os.ReadFile(filepath.Join(untidy, "main.go"))
	src = bytes.Replace(src, []byte("import ("), []byte("import (\n\t_ \"example.com/nowhere\""), 1)
	os.WriteFile(filepath.Join(untidy, "main.go"), src, 0o644)
	os.WriteFile(filepath.Join(untidy, "go.sum"), nil, 0o644)
	if code, _, errOut := runIn(t, dir, nil, "new", "--lang", "javascript", "offline"); code != 0 {
		t.Fatalf("new: exit %d: %s", code, errOut)
	}
	empty := t.TempDir() // a PATH without any toolchain
	type mistake struct {
		name string
		dir  string
		env  []string
		args []string
		want string
	}
	cases := []mistake{
		{"unknown language", dir, nil, []string{"new", "--lang", "cobol", "x"}, `--lang "cobol": want one of go, rust, assemblyscript, c, wat, js`},
		{"TypeScript", dir, nil, []string{"new", "--lang", "ts", "x"}, "--lang typescript: a TypeScript handler is written in AssemblyScript"},
		{"folder not empty", dir, nil, []string{"new", "--lang", "wat", "taken"}, "taken already exists and is not empty"},
		{"bad name", dir, nil, []string{"new", "--lang", "wat", "9lives"}, `"9lives" cannot name a project`},
		{"sdk not a checkout", dir, nil, []string{"new", "--sdk", dir, "x"}, "--sdk " + dir + ": not a checkout of github.com/wasmserve/wasmserve"},
		{"no name", dir, nil, []string{"new"}, "new takes the name of the project's folder, got 0 arguments"},
		{"no project", t.TempDir(), nil, []string{"build"}, "no handler project in "},
		{"toolchain missing", filepath.Join(dir, "taken"), []string{"PATH=" + empty}, []string{"build"},
			"building a WebAssembly text handler needs wat2wasm, which is not on PATH: it is in wabt: apt-get install wabt"},
		{"toolchain missing, dev", filepath.Join(dir, "taken"), []string{"PATH=" + empty}, []string{"dev"},
			"building a WebAssembly text handler needs wat2wasm"},
		{"go build fails", untidy, nil, []string{"build"},
			"build failed: go exited with status 1; the module's requirements are not all in go.mod and go.sum: run go mod tidy"},
		{"JavaScript toolchain missing", filepath.Join(dir, "offline"), []string{"PATH=" + empty}, []string{"build"},
			"building a JavaScript handler needs node, which is not on PATH: install Node.js"},
	}
	if _, err := exec.LookPath("npm"); err == nil {
		// A registry that refuses connections, and an empty npm cache.
		cases = append(cases, mistake{"npm registry unreachable", filepath.Join(dir, "offline"),
			[]string{"npm_config_registry=http://127.0.0.1:9/", "npm_config_fetch_retries=0", "npm_config_cache=" + t.TempDir()},
			[]string{"build"},
			"build failed: npm exited with status 1; npm could not reach its registry to install componentize-js and jco (npm install)"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runIn(t, c.dir, c.env, c.args...)
			if code != 1 || !strings.Contains(errOut, "wasmserve: "+c.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, errOut, c.want)
			}
		})
	}
}

// TestDev: `wasmserve dev` builds and serves the project, rebuilds and
// reloads it when a source changes, shows a failing build while the last
// good one goes on serving, and stops on SIGINT.
func TestDev(t *testing.T) {
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Skip("wat2wasm is not installed")
	}
	dir := t.TempDir()
	if code, _, errOut := runIn(t, dir, nil, "new", "--lang", "wat", "live"); code != 0 {
		t.Fatalf("new: exit %d: %s", code, errOut)
	}
	project := filepath.Join(dir, "live")
	src := filepath.Join(project, "handler.wat")
	pf := filepath.Join(t.TempDir(), "port")
	cmd := exec.Command(binary, "dev", "--port", "0", "--port-file", pf, "--address", "127.0.0.1",
		"--no-banner", "--cache-dir", testguest.CacheDir(t))
	cmd.Dir = project
	port, stderr := startCmd(t, cmd, pf)
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/x"
	if code, body := get(t, url); code != 200 || body != "Hello from live: /x\n" {
		t.Fatalf("got %d %q; log:\n%s", code, body, stderr)
	}
	edit := func(from, to string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(from)) {
			t.Fatalf("handler.wat lacks %q", from)
		}
		if err := os.WriteFile(src, bytes.Replace(b, []byte(from), []byte(to), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	answers := func(want string) func() bool {
		return func() bool {
			resp, err := http.Get(url)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			return resp.StatusCode == 200 && b.String() == want
		}
	}
	edit("Hello from", "Howdy from") // the same length: the offsets hold
	testguest.WaitFor(t, "the edited greeting", answers("Howdy from live: /x\n"))

	edit("(module", "(module (func $broken")
	testguest.WaitFor(t, "the build error", func() bool { return strings.Contains(stderr.String(), "build failed") })
	log := stderr.String()
	if !strings.Contains(log, "handler.wat:") {
		t.Errorf("the compiler's own message is not shown:\n%s", log)
	}
	if code, body := get(t, url); code != 200 || body != "Howdy from live: /x\n" {
		t.Errorf("after a failed build: got %d %q, want the last good build's answer", code, body)
	}

	edit("(module (func $broken", "(module")
	edit("Howdy from", "Hallo from")
	testguest.WaitFor(t, "the fixed greeting", answers("Hallo from live: /x\n"))

	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGINT: %v; log:\n%s", err, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("still running 10s after SIGINT; log:\n%s", stderr)
	}
}

// TestQuickStart: the README's quick start is at most six commands, and
// they do what it says from a clone: make install (for the go install of
// a release), wasmserve new, wasmserve dev serving the new Go handler, with
// no --sdk: the installed binary points the project at its clone.
func TestQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wasmserve again")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	readme, err := os.ReadFile(testguest.Path("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(readme), "## Quick start\n")
	_, block, _ := strings.Cut(after, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	var commands []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		commands = append(commands, strings.TrimSpace(cmd))
	}
	if len(commands) > 6 {
		t.Errorf("the quick start has %d commands, more than 6: %q", len(commands), commands)
	}
	for i, want := range []string{"go install github.com/wasmserve/wasmserve/cmd/wasmserve@latest", "wasmserve new hello", "cd hello", "wasmserve dev", "curl localhost:8080/world"} {
		if i >= len(commands) || commands[i] != want {
			t.Fatalf("quick start command %d is not %q: %q", i+1, want, commands)
		}
	}

	bin := t.TempDir()
	install := exec.Command("make", "install")
	install.Dir = testguest.Root()
	install.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	wasmserve := filepath.Join(bin, "wasmserve")
	dir := t.TempDir()
	cmd := exec.Command(wasmserve, "new", "hello")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("new: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "hello", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "replace github.com/wasmserve/wasmserve => " + testguest.Root(); !strings.Contains(string(b), want) {
		t.Errorf("go.mod lacks %q:\n%s", want, b)
	}
	pf := filepath.Join(t.TempDir(), "port")
	cmd = exec.Command(wasmserve, "dev", "--port", "0", "--port-file", pf, "--address", "127.0.0.1",
		"--cache-dir", testguest.CacheDir(t))
	cmd.Dir = filepath.Join(dir, "hello")
	port, stderr := startCmd(t, cmd, pf)
	if code, body := get(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/world"); code != 200 || body != "Hello from hello: /world\n" {
		t.Errorf("got %d %q; log:\n%s", code, body, stderr)
	}
}
