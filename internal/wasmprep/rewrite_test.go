package wasmprep

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// validate checks b with wabt's wasm-validate, when it is installed, with
// every feature the fixtures use (not --enable-all: with typed function
// references wabt rejects ref.func stored in a funcref table).
func validate(t *testing.T, b []byte) {
	t.Helper()
	tool, err := exec.LookPath("wasm-validate")
	if err != nil {
		return
	}
	f := filepath.Join(t.TempDir(), "out.wasm")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "--enable-exceptions", "--enable-threads", "--enable-tail-call",
		"--enable-multi-memory", "--enable-relaxed-simd", f).CombinedOutput(); err != nil {
		t.Fatalf("wasm-validate of the rewritten module: %v\n%s", err, out)
	}
}

// TestRewriteInstructionClasses rewrites one fixture per instruction class,
// checks that a check was inserted per function and per loop, validates the
// result, and, where wazero runs the class, that the rewritten module
// computes the same result and traps once its interrupt global is set.
func TestRewriteInstructionClasses(t *testing.T) {
	cases := []struct {
		name, file string
		checks     int // functions + loops
		features   api.CoreFeatures
		run        bool // wazero runs it
		arg, want  uint64
	}{
		{"mvp", "rw_mvp.wasm", 4, 0, true, 5, 30},
		{"block types", "rw_blocktypes.wasm", 3, 0, true, 5, 15},
		{"bulk memory, table, sign extension, saturating truncation", "rw_bulk.wasm", 3, 0, true, 5, 5},
		{"reference types", "rw_reftypes.wasm", 2, 0, true, 5, 5},
		{"simd", "rw_simd.wasm", 2, 0, true, 5, 5},
		{"tail calls", "rw_tailcall.wasm", 2, experimental.CoreFeaturesTailCall, true, 5, 5},
		{"threads", "rw_threads.wasm", 2, experimental.CoreFeaturesThreads, true, 5, 5},
		{"legacy exceptions", "rw_exceptions.wasm", 2, 0, false, 0, 0},
		{"multi-memory", "rw_multimemory.wasm", 2, 0, false, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := readWasm(t, c.file)
			out, err := RewriteInterruptible(in)
			if err != nil {
				t.Fatal(err)
			}
			validate(t, out)
			if !bytes.Contains(out, []byte(InterruptExport)) {
				t.Error("the rewritten module does not export the interrupt global")
			}
			if n := countChecks(out); n != c.checks {
				t.Errorf("%d checks inserted, want %d", n, c.checks)
			}
			if !c.run {
				return
			}
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
				WithCoreFeatures(api.CoreFeaturesV2|c.features))
			defer rt.Close(ctx)
			if _, err := rt.InstantiateWithConfig(ctx, readWasm(t, "rw_env.wasm"), wazero.NewModuleConfig().WithName("env")); err != nil {
				t.Fatal(err)
			}
			results := map[bool]uint64{}
			for _, rewritten := range []bool{false, true} {
				b := in
				if rewritten {
					b = out
				}
				mod, err := rt.InstantiateWithConfig(ctx, b, wazero.NewModuleConfig().WithName(""))
				if err != nil {
					t.Fatalf("instantiating (rewritten %v): %v", rewritten, err)
				}
				res, err := mod.ExportedFunction("run").Call(ctx, c.arg)
				if err != nil {
					t.Fatalf("run (rewritten %v): %v", rewritten, err)
				}
				results[rewritten] = res[0]
				if rewritten {
					g, ok := mod.ExportedGlobal(InterruptExport).(api.MutableGlobal)
					if !ok {
						t.Fatal("the interrupt global is not an exported mutable global")
					}
					g.Set(1)
					mod.ExportedGlobal(CountdownExport).(api.MutableGlobal).Set(0)
					if _, err := mod.ExportedFunction("run").Call(ctx, c.arg); err == nil ||
						!strings.Contains(err.Error(), "unreachable") {
						t.Errorf("run with the interrupt global set: got %v, want an unreachable trap", err)
					}
				}
				mod.Close(ctx)
			}
			if results[false] != c.want || results[true] != c.want {
				t.Errorf("run(%d) = %d before and %d after rewriting, want %d", c.arg, results[false], results[true], c.want)
			}
		})
	}
}

// countChecks counts the inserted checks in b by their slow path's start:
// i32.eqz; if; i32.const 0; memory.grow 0; drop.
func countChecks(b []byte) int {
	return bytes.Count(b, []byte{0x41, 0x01, 0x48, 0x04, 0x40, 0x41, 0x00, 0x40, 0x00, 0x1A})
}

// fixtures holds the committed modules the tests read, which the pool's
// tests share.
const fixtures = "../../runtimepool/testdata"

// readWasm reads a module of fixtures.
func readWasm(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureSeeds adds every module of fixtures to a fuzz target's corpus.
func fixtureSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.wasm"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
}

// parseRewrite parses wasm and rewrites it, as RewriteInterruptible does
// with checks.
func parseRewrite(wasm []byte, checks bool) ([]byte, Info, error) {
	m, err := Parse(wasm)
	if err != nil {
		return nil, Info{}, err
	}
	return m.Rewrite(checks)
}

// fuzzRuntime is a wazero runtime for a fuzz target's inputs, closed with
// the target.
func fuzzRuntime(f *testing.F) wazero.Runtime {
	rt := wazero.NewRuntime(context.Background())
	f.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

// compiles reports whether wazero compiles in, which it is shown only when
// the pre-check accepts it, as the pool shows it (see host's
// FuzzServePath).
func compiles(rt wazero.Runtime, in []byte) bool {
	if wasmbin.Check(in) != nil {
		return false
	}
	cm, err := rt.CompileModule(context.Background(), in)
	if err != nil {
		return false
	}
	cm.Close(context.Background())
	return true
}

// refused reports whether err is the refusal the test wants ("" for none),
// failing the test when it is another.
func refused(t *testing.T, err error, want string) bool {
	t.Helper()
	switch {
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("error %v, want one containing %q", err, want)
	case want == "" && err != nil:
		t.Fatal(err)
	}
	return want != ""
}

// importEntry encodes an import of module.name of the given kind and
// description.
func importEntry(module, name string, kind byte, desc ...byte) []byte {
	b := wasmbin.AppendU32(nil, uint32(len(module)))
	b = append(b, module...)
	b = wasmbin.AppendU32(b, uint32(len(name)))
	b = append(b, name...)
	return append(append(b, kind), desc...)
}

// vec encodes the entries as a vector, counted.
func vec(entries ...[]byte) []byte {
	return append(wasmbin.AppendU32(nil, uint32(len(entries))), bytes.Join(entries, nil)...)
}

// module assembles a binary from sections.
func module(sections ...[]byte) []byte {
	return append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Join(sections, nil)...)
}

// sec encodes one section.
func sec(id byte, body ...byte) []byte { return wasmbin.AppendSection(nil, id, body) }

// custom encodes a custom section.
func custom(name string, data ...byte) []byte {
	body := wasmbin.AppendU32(nil, uint32(len(name)))
	body = append(body, name...)
	return sec(0, append(body, data...)...)
}

var (
	typeNop  = sec(1, 1, 0x60, 0, 0) // one type: [] -> []
	funcNop  = sec(3, 1, 0)          // one function of type 0
	mem1     = sec(5, 1, 0, 1)       // one memory of one page
	globalI0 = []byte{0x7F, 0x01, 0x41, 0x00, 0x0B, 0x7F, 0x01, 0x41, 0x80, 0x08, 0x0B}
	exportG  = append(append([]byte{byte(len(InterruptExport))}, InterruptExport...), 0x03)
	exportC  = append(append([]byte{byte(len(CountdownExport))}, CountdownExport...), 0x03)
)

// newExports are the two exports the rewriter adds, for globals idx and
// idx+1.
func newExports(idx byte) []byte {
	return bytes.Join([][]byte{exportG, {idx}, exportC, {idx + 1}}, nil)
}

// TestRewriteBinary checks exact output for hand-built modules: section
// placement, global index, custom sections, try_table, and the errors.
func TestRewriteBinary(t *testing.T) {
	check := func(idx byte) []byte { return interruptCheck(uint32(idx)) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	code := func(bodies ...[]byte) []byte {
		b := []byte{byte(len(bodies))}
		for _, f := range bodies {
			b = append(b, byte(len(f)))
			b = append(b, f...)
		}
		return sec(10, b...)
	}
	globals := sec(6, cat([]byte{2}, globalI0)...)
	exports := sec(7, cat([]byte{2}, newExports(0))...)
	cases := []struct {
		name    string
		in, out []byte
		err     string
	}{
		{"memory only", module(mem1), module(mem1, globals, exports), ""},
		{
			"function and loop, sections inserted before code, debug dropped, name kept",
			module(typeNop, funcNop, mem1, code([]byte{0, 0x03, 0x40, 0x0B, 0x0B}), custom(".debug_info", 1, 2), custom("name", 0, 2, 1, 'm')),
			module(typeNop, funcNop, mem1, globals, exports,
				code(cat([]byte{0}, check(0), []byte{0x03, 0x40}, check(0), []byte{0x0B, 0x0B})), custom("name", 0, 2, 1, 'm')),
			"",
		},
		{
			"imported memory, imported and defined globals before the new ones, the mutable one exported, locals kept",
			module(typeNop,
				sec(2, 2, 1, 'e', 1, 'g', 0x03, 0x7F, 0x00, 1, 'e', 1, 'm', 0x02, 0x00, 0x01),
				funcNop,
				sec(6, 1, 0x7E, 0x01, 0x42, 0x00, 0x0B),
				sec(7, 1, 1, 'f', 0x00, 0x00),
				code([]byte{1, 2, 0x7F, 0x0B})),
			module(typeNop,
				sec(2, 2, 1, 'e', 1, 'g', 0x03, 0x7F, 0x00, 1, 'e', 1, 'm', 0x02, 0x00, 0x01),
				funcNop,
				sec(6, cat([]byte{3, 0x7E, 0x01, 0x42, 0x00, 0x0B}, globalI0)...),
				sec(7, cat([]byte{4, 1, 'f', 0x00, 0x00}, newExports(2),
					[]byte{byte(len(GlobalExportPrefix) + 1)}, []byte(GlobalExportPrefix+"1"), []byte{0x03, 1})...),
				code(cat([]byte{1, 2, 0x7F}, check(2), []byte{0x0B}))),
			"",
		},
		{
			"try_table with catch clauses, a loop inside",
			module(typeNop, funcNop, mem1, code([]byte{0, 0x1F, 0x40, 2, 0x00, 0, 0, 0x02, 0, 0x03, 0x40, 0x0B, 0x0B, 0x0B})),
			module(typeNop, funcNop, mem1, globals, exports,
				code(cat([]byte{0}, check(0), []byte{0x1F, 0x40, 2, 0x00, 0, 0, 0x02, 0, 0x03, 0x40}, check(0), []byte{0x0B, 0x0B, 0x0B}))),
			"",
		},
		{
			"tag section before the new global section",
			module(typeNop, mem1, sec(13, 1, 0, 0)),
			module(typeNop, mem1, sec(13, 1, 0, 0), globals, exports),
			"",
		},
		{"no memory", module(typeNop), nil,
			"rewriting module: the module has no memory, which the inserted checks need to yield to Go"},
		{"unknown simd opcode", module(typeNop, funcNop, mem1, code([]byte{0, 0xFD, 0xFF, 0x03, 0x0B})), nil,
			"malformed module: code section, offset 28: function 0: instruction 0xfd: unknown opcode 0xfd 0x1ff"},
		{"unknown opcode", module(typeNop, funcNop, mem1, code([]byte{0, 0x27, 0x0B})), nil,
			"malformed module: code section, offset 28: function 0: instruction 0x27: unknown opcode 0x27"},
		{"name already exported", module(mem1, sec(7, cat([]byte{1}, exportC, []byte{0})...)), nil,
			`rewriting module: export section: export 0: the module already exports "wasmserve:countdown", a name reserved for wasmserve`},
		{"truncated body", module(typeNop, funcNop, mem1, sec(10, 1, 3, 0, 0x03, 0x40)), nil,
			"malformed module: code section, offset 30: function 0: code ends before the function's end"},
		{"not wasm", []byte("hello, world"), nil, "malformed module at offset 0: not a WebAssembly binary (no \\0asm magic)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := RewriteInterruptible(c.in)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.out) {
				t.Fatalf("got  % x\nwant % x", got, c.out)
			}
		})
	}
}

// TestRewriteRepoModules rewrites every committed .wasm of the repository
// that wazero compiles, and the Go guest examples, and compiles the results.
func TestRewriteRepoModules(t *testing.T) {
	var files []string
	root := testguest.Root()
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".wasm") && !strings.Contains(p, string(filepath.Separator)+"bin"+string(filepath.Separator)) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 10 {
		t.Fatalf("found only %d .wasm files under %s", len(files), root)
	}
	// The Go guests are the largest modules: compiling them twice each
	// under the race detector takes minutes, and the host's tests compile
	// their rewrites anyway (every handler with a timeout), so they are
	// left to runs without it. The module-rewriting code is one goroutine.
	if !testing.Short() && !raceEnabled {
		files = append(files, testguest.Build(t, "hello"), testguest.Build(t, "echo"))
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCoreFeatures(api.CoreFeaturesV2|experimental.CoreFeaturesThreads|experimental.CoreFeaturesTailCall))
	defer rt.Close(ctx)
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		t.Run(rel, func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := wasmbin.Check(in); err != nil {
				// Malformed on purpose (cmd/wasmserve/testdata):
				// wazero must not see it, and the rewrite refuses it.
				if _, rerr := RewriteInterruptible(in); rerr == nil {
					t.Errorf("the rewrite accepts a module the pre-check refuses: %v", err)
				}
				t.Skip(err)
			}
			cm, err := rt.CompileModule(ctx, in)
			if err != nil {
				t.Skipf("wazero does not compile the original: %v", err)
			}
			cm.Close(ctx)
			out, err := RewriteInterruptible(in)
			if err != nil && strings.Contains(err.Error(), "has no memory") {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			validate(t, out)
			cm, err = rt.CompileModule(ctx, out)
			if err != nil {
				t.Fatalf("compiling the rewritten module: %v", err)
			}
			defer cm.Close(ctx)
			if len(cm.ExportedFunctions()) == 0 && len(cm.ExportedMemories()) == 0 && !bytes.Contains(out, []byte(InterruptExport)) {
				t.Error("the rewritten module lost its exports")
			}
		})
	}
}

// FuzzRewrite: no input may panic the rewriter, and whatever wazero compiles
// must rewrite into something wazero compiles too.
func FuzzRewrite(f *testing.F) {
	fixtureSeeds(f)
	f.Add(module(typeNop, funcNop, mem1, sec(10, 1, 5, 0, 0x03, 0x40, 0x0B, 0x0B)))
	rt, ctx := fuzzRuntime(f), context.Background()
	f.Fuzz(func(t *testing.T, in []byte) {
		out, rerr := RewriteInterruptible(in)
		if !compiles(rt, in) {
			return
		}
		if rerr != nil {
			if strings.Contains(rerr.Error(), "has no memory") {
				return // refused by design; the pool falls back
			}
			t.Fatalf("wazero compiles the module but rewriting fails: %v", rerr)
		}
		if cm, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("wazero compiles the module but not its rewrite: %v", err)
		} else {
			cm.Close(ctx)
		}
	})
}
