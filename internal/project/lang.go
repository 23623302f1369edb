package project

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Output is the module a build writes in the project folder, and what
// `wasmserve dev` serves.
const Output = "handler.wasm"

// A Language is one kind of handler project: what `wasmserve new` writes,
// how `wasmserve build` recognises and builds it, and which of its files
// `wasmserve dev` rebuilds on.
type Language struct {
	name  string // the --lang value
	title string // for a sentence: "Go", "AssemblyScript"
	// files maps a template of templates/ to the file it becomes in the
	// project.
	files map[string]string
	// detect reports whether dir holds a project of this language.
	detect func(dir string) bool
	// sources are the suffixes of the files whose change means a rebuild.
	sources []string
	// tools are the programs the build runs, each with how to install it.
	tools []tool
	// check, when set, finds a missing part of the toolchain that is not a
	// program, and says how to install it.
	check func() error
	// steps are the commands of a build in dir.
	steps func(dir string) ([]step, error)
	// makeCommand is the build as one shell command, for a Makefile; ""
	// for a Language whose build file is its own (go.mod, Cargo.toml).
	makeCommand string
	// hint says what to install when a failed build's output shows that
	// part of the toolchain is missing; "" when it does not.
	hint func(output string) string
}

// tool is a program a build needs and how to get it.
type tool struct {
	program, install string
}

// step is one command of a build, run in the project folder; or, when fn
// is set, work done in process.
type step struct {
	env  []string // added to the environment
	argv []string
	fn   func() error
	show string // what to print for fn
}

// String is the step as a shell would run it.
func (s step) String() string {
	if s.fn != nil {
		return s.show
	}
	parts := append([]string{}, s.env...)
	for _, a := range s.argv {
		parts = append(parts, Quote(a))
	}
	return strings.Join(parts, " ")
}

// languages are the languages `wasmserve new` writes and `wasmserve build`
// builds, in the order build looks for them.
var languages = []*Language{
	{
		name: "go", title: "Go",
		files: map[string]string{
			"go/go.mod.tmpl": "go.mod", "go/main.go.tmpl": "main.go",
			"cases.yaml.tmpl": "cases.yaml", "gitignore.tmpl": ".gitignore",
		},
		detect:  func(dir string) bool { return exists(filepath.Join(dir, "go.mod")) },
		sources: []string{".go", "go.mod", "go.sum"},
		tools:   []tool{{"go", "install Go 1.24 or newer from https://go.dev/dl/"}},
		steps: func(dir string) ([]step, error) {
			var steps []step
			if !exists(filepath.Join(dir, "go.sum")) {
				// A new project has no go.sum: tidy fetches the SDK.
				steps = append(steps, step{argv: []string{"go", "mod", "tidy"}})
			}
			return append(steps, step{env: []string{"GOOS=wasip1", "GOARCH=wasm"},
				argv: []string{"go", "build", "-buildmode=c-shared", "-o", Output, "."}}), nil
		},
		hint: func(out string) string {
			if strings.Contains(out, "missing go.sum entry") || strings.Contains(out, "no required module provides package") {
				return "the module's requirements are not all in go.mod and go.sum: run go mod tidy"
			}
			return ""
		},
	},
	{
		name: "rust", title: "Rust",
		files: map[string]string{
			"rust/Cargo.toml.tmpl": "Cargo.toml", "rust/src/lib.rs.tmpl": "src/lib.rs",
			"cases.yaml.tmpl": "cases.yaml", "gitignore.tmpl": ".gitignore",
		},
		detect:  func(dir string) bool { return exists(filepath.Join(dir, "Cargo.toml")) },
		sources: []string{".rs", "Cargo.toml"},
		tools: []tool{
			{"cargo", "install Rust with rustup (https://rustup.rs), then: rustup target add wasm32-unknown-unknown"},
			{"rustc", "install Rust with rustup (https://rustup.rs), then: rustup target add wasm32-unknown-unknown"},
		},
		check: rustTarget,
		steps: func(dir string) ([]step, error) {
			crate, err := cargoPackage(filepath.Join(dir, "Cargo.toml"))
			if err != nil {
				return nil, err
			}
			out := filepath.Join("target", "wasm32-unknown-unknown", "release", strings.ReplaceAll(crate, "-", "_")+".wasm")
			return []step{
				{argv: []string{"cargo", "build", "--release", "--target", "wasm32-unknown-unknown"}},
				{show: "cp " + out + " " + Output, fn: func() error {
					b, err := os.ReadFile(filepath.Join(dir, out))
					if err != nil {
						return err
					}
					return os.WriteFile(filepath.Join(dir, Output), b, 0o644)
				}},
			}, nil
		},
	},
	{
		name: "assemblyscript", title: "AssemblyScript",
		files: map[string]string{
			"assemblyscript/package.json.tmpl": "package.json", "assemblyscript/assembly/index.ts.tmpl": "assembly/index.ts",
			"cases.yaml.tmpl": "cases.yaml", "gitignore.tmpl": ".gitignore",
		},
		detect: func(dir string) bool {
			b, err := os.ReadFile(filepath.Join(dir, "package.json"))
			return err == nil && strings.Contains(string(b), `"assemblyscript"`)
		},
		sources: []string{".ts", "package.json", "asconfig.json"},
		tools:   nodeTools,
		steps: func(dir string) ([]step, error) {
			var steps []step
			if !exists(filepath.Join(dir, "node_modules", ".bin", "asc")) {
				// The compiler is a dependency of the project.
				steps = append(steps, step{argv: []string{"npm", "install", "--no-audit", "--no-fund"}})
			}
			return append(steps, step{argv: []string{"npm", "run", "--silent", "build"}}), nil
		},
		makeCommand: ascCommand,
		hint:        npmHint("the AssemblyScript compiler"),
	},
	{
		name: "c", title: "C",
		files: map[string]string{
			"c/handler.c.tmpl": "handler.c", "c/Makefile.tmpl": "Makefile",
			"cases.yaml.tmpl": "cases.yaml", "gitignore.tmpl": ".gitignore",
		},
		detect:  func(dir string) bool { return len(glob(dir, "*.c")) > 0 },
		sources: []string{".c", ".h"},
		tools:   []tool{{"clang", "apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32 (Debian, Ubuntu), or the WASI SDK: https://github.com/WebAssembly/wasi-sdk"}},
		steps: func(dir string) ([]step, error) {
			return []step{{argv: append(append([]string{}, clangArgs...), glob(dir, "*.c")...)}}, nil
		},
		makeCommand: strings.Join(clangArgs, " ") + " *.c",
		hint: func(out string) string {
			switch {
			case strings.Contains(out, "wasm-ld"):
				return "the WebAssembly linker wasm-ld is missing: apt-get install lld (Debian, Ubuntu)"
			case strings.Contains(out, "libclang_rt.builtins-wasm32"):
				return "clang's WebAssembly runtime is missing: apt-get install libclang-rt-14-dev-wasm32 (Debian, Ubuntu; the number is clang's version)"
			case strings.Contains(out, "file not found") && strings.Contains(out, ".h"),
				strings.Contains(out, "crt1-reactor.o"), strings.Contains(out, "unable to find library -lc"):
				return "the WASI C library is missing: apt-get install wasi-libc (Debian, Ubuntu), or use the WASI SDK: https://github.com/WebAssembly/wasi-sdk"
			}
			return ""
		},
	},
	{
		name: "wat", title: "WebAssembly text",
		files: map[string]string{
			"wat/handler.wat.tmpl": "handler.wat", "wat/Makefile.tmpl": "Makefile",
			"cases.yaml.tmpl": "cases.yaml", "gitignore.tmpl": ".gitignore",
		},
		detect:  func(dir string) bool { return len(glob(dir, "*.wat")) > 0 },
		sources: []string{".wat"},
		tools:   []tool{{"wat2wasm", "it is in wabt: apt-get install wabt (Debian, Ubuntu), brew install wabt (macOS), or https://github.com/WebAssembly/wabt/releases"}},
		steps: func(dir string) ([]step, error) {
			src := "handler.wat"
			if !exists(filepath.Join(dir, src)) {
				wat := glob(dir, "*.wat")
				if len(wat) != 1 {
					return nil, fmt.Errorf("%d .wat files and none is handler.wat: which is the module?", len(wat))
				}
				src = wat[0]
			}
			return []step{{argv: []string{"wat2wasm", src, "-o", Output}}}, nil
		},
		makeCommand: "wat2wasm handler.wat -o " + Output,
	},
	{
		name: "js", title: "JavaScript",
		files: map[string]string{
			"js/package.json.tmpl": "package.json", "js/handler.js.tmpl": "handler.js", "js/build.mjs.tmpl": "build.mjs",
			"cases.yaml.tmpl": "cases.yaml", "gitignore.tmpl": ".gitignore",
		},
		detect: func(dir string) bool {
			b, err := os.ReadFile(filepath.Join(dir, "package.json"))
			return err == nil && strings.Contains(string(b), `"`+componentizeJS+`"`)
		},
		sources: []string{".js", ".mjs", "package.json"},
		tools:   nodeTools,
		steps: func(dir string) ([]step, error) {
			var steps []step
			if !exists(filepath.Join(dir, "node_modules", filepath.FromSlash(componentizeJS))) {
				// componentize-js and jco are dependencies of the project.
				steps = append(steps, step{argv: []string{"npm", "install", "--no-audit", "--no-fund"}})
			}
			return append(steps, step{argv: []string{"npm", "run", "--silent", "build"}}), nil
		},
		hint: npmHint("componentize-js and jco"),
	},
}

// componentizeJS is the npm package that makes a JavaScript handler a
// wasi:http component; a package.json depending on it is a JavaScript
// handler project.
const componentizeJS = "@bytecodealliance/componentize-js"

// nodeTools are the programs of an npm project's build.
var nodeTools = []tool{
	{"node", "install Node.js: apt-get install nodejs npm (Debian, Ubuntu), or https://nodejs.org"},
	{"npm", "install Node.js: apt-get install nodejs npm (Debian, Ubuntu), or https://nodejs.org"},
}

// npmHint is the hint of an npm project's build: npm's network errors mean
// that npm install could not fetch what, the project's toolchain.
func npmHint(what string) func(output string) string {
	return func(out string) string {
		for _, s := range []string{"ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET"} {
			if strings.Contains(out, s) {
				return "npm could not reach its registry to install " + what + " (npm install)"
			}
		}
		return ""
	}
}

// ascCommand builds an AssemblyScript handler, the build script of its
// package.json. --use abort= drops the env.abort import (an assertion then
// traps), so that the module imports http_handler alone; --exportStart
// _initialize runs the runtime's set-up as a reactor's start function.
const ascCommand = "asc assembly/index.ts --outFile " + Output +
	" --optimize --runtime incremental --use abort= --exportStart _initialize"

// clangArgs build a C handler, before its .c files. -mexec-model=reactor
// links wasi-libc's _initialize, not _start: the module stays usable after
// its start function.
var clangArgs = []string{"clang", "--target=wasm32-wasi", "-O2", "-mexec-model=reactor", "-I", ".", "-o", Output}

// notYet are languages wasmserve new knows of but cannot write a project
// in, each with why and what to do instead.
var notYet = map[string]string{
	"typescript": "a TypeScript handler is written in AssemblyScript: --lang assemblyscript",
}

// Named returns the language of a --lang value (or one of its aliases).
func Named(name string) (*Language, error) {
	name = strings.ToLower(name)
	aliases := map[string]string{"golang": "go", "rs": "rust", "wasm": "wat", "as": "assemblyscript", "ts": "typescript",
		"javascript": "js"}
	if a, ok := aliases[name]; ok {
		name = a
	}
	for _, l := range languages {
		if l.name == name {
			return l, nil
		}
	}
	if why, ok := notYet[name]; ok {
		return nil, fmt.Errorf("--lang %s: %s", name, why)
	}
	return nil, fmt.Errorf("--lang %q: want one of %s", name, strings.Join(Names(), ", "))
}

// Names lists the --lang values.
func Names() []string {
	var names []string
	for _, l := range languages {
		names = append(names, l.name)
	}
	return names
}

// Detect returns the language of the project in dir, from its files.
func Detect(dir string) (*Language, error) {
	for _, l := range languages {
		if l.detect(dir) {
			return l, nil
		}
	}
	abs, _ := filepath.Abs(dir)
	return nil, fmt.Errorf("no handler project in %s: it has no go.mod, Cargo.toml, package.json (AssemblyScript or componentize-js), .c or .wat file (wasmserve new NAME writes one)", abs)
}

// MissingTool says which program or part of l's toolchain is missing and
// how to install it; nil when nothing is.
func (l *Language) MissingTool() error {
	for _, t := range l.tools {
		if _, err := exec.LookPath(t.program); err != nil {
			return fmt.Errorf("building %s handler needs %s, which is not on PATH: %s", l.A(), t.program, t.install)
		}
	}
	if l.check != nil {
		return l.check()
	}
	return nil
}

// A is the language's title with its article: "a Go", "an AssemblyScript".
func (l *Language) A() string {
	if strings.ContainsRune("AEIOU", rune(l.title[0])) {
		return "an " + l.title
	}
	return "a " + l.title
}

// rustTarget reports a Rust toolchain without the standard library for
// wasm32-unknown-unknown.
func rustTarget() error {
	out, err := exec.Command("rustc", "--print", "target-libdir", "--target", "wasm32-unknown-unknown").Output()
	dir := strings.TrimSpace(string(out))
	if err == nil && len(glob(dir, "libcore-*")) > 0 {
		return nil
	}
	return errors.New("building a Rust handler needs the standard library for wasm32-unknown-unknown, which is not installed: " +
		"rustup target add wasm32-unknown-unknown (with Debian's rustc: apt-get install libstd-rust-dev-wasm32)")
}

// cargoPackage returns the package name of a Cargo.toml.
func cargoPackage(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	section := ""
	for s := bufio.NewScanner(f); s.Scan(); {
		line := strings.TrimSpace(s.Text())
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && section == "[package]" && strings.TrimSpace(k) == "name" {
			return strings.Trim(strings.TrimSpace(v), `"'`), nil
		}
	}
	return "", fmt.Errorf("%s: no name in [package]", path)
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// glob returns the names (not paths) in dir that match pattern, sorted.
func glob(dir, pattern string) []string {
	paths, _ := filepath.Glob(filepath.Join(dir, pattern))
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

// Name is l's --lang value.
func (l *Language) Name() string { return l.name }

// Title is l's name for a sentence: "Go", "AssemblyScript".
func (l *Language) Title() string { return l.title }

// Sources are the suffixes of l's files whose change means a rebuild.
func (l *Language) Sources() []string { return l.sources }

// Quote quotes s for a POSIX shell when it needs it, so that a command line
// shown to a user can be pasted back.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@+=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
