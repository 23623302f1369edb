package runtimepool

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// TestReadShape: the import modules and exported functions read from the
// bytes, and the errors of modules that do not parse.
func TestReadShape(t *testing.T) {
	entry := func(module, name string, kind byte, desc ...byte) []byte {
		b := wasmbin.AppendU32(nil, uint32(len(module)))
		b = append(b, module...)
		b = wasmbin.AppendU32(b, uint32(len(name)))
		b = append(b, name...)
		return append(append(b, kind), desc...)
	}
	export := func(name string, kind, index byte) []byte {
		b := wasmbin.AppendU32(nil, uint32(len(name)))
		return append(append(b, name...), kind, index)
	}
	vec := func(entries ...[]byte) []byte {
		body := []byte{byte(len(entries))}
		for _, e := range entries {
			body = append(body, e...)
		}
		return body
	}
	cases := []struct {
		name    string
		in      []byte
		modules []string
		funcs   []string
		err     string
	}{
		{"empty module", module(), nil, nil, ""},
		{"imports of each kind, each module once",
			module(sec(2, vec(entry("http_handler", "log", 0, 0), entry("env", "m", 2, 0, 1),
				entry("http_handler", "get_uri", 0, 0), entry("env", "g", 3, 0x7F, 0),
				entry("env", "t", 1, 0x70, 0, 1))...)),
			[]string{"http_handler", "env"}, nil, ""},
		{"exported functions only", module(sec(7, vec(export("_start", 0, 0), export("memory", 2, 0),
			export("handle_request", 0, 1))...)), nil, []string{"_start", "handle_request"}, ""},
		{"a real module parses", readWasm(t, "reset.wasm"), nil, nil, ""},
		{"not wasm", []byte("hello"), nil, nil, "not a WebAssembly binary"},
		{"section beyond the end", append(module(), 2, 100, 0), nil, nil, "section size 100 overruns the module"},
		{"import count beyond its bytes", module(sec(2, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F)), nil, nil, "import section"},
		{"unknown import kind", module(sec(2, vec(entry("env", "x", 9))...)), nil, nil, "unknown import kind 0x09"},
		{"truncated export", module(sec(7, 1, 5, 'a')), nil, nil, "export section"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sh, err := ReadShape(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.name == "a real module parses" {
				return // parses; its contents are checked against wazero below
			}
			if !slices.Equal(sh.ImportModules, c.modules) || !slices.Equal(sh.Funcs, c.funcs) {
				t.Errorf("got modules %q funcs %q, want %q %q", sh.ImportModules, sh.Funcs, c.modules, c.funcs)
			}
		})
	}
}

// FuzzReadShape: no input panics ReadShape, and for every module wazero
// compiles it finds the same import modules and exported functions.
func FuzzReadShape(f *testing.F) {
	entries, _ := os.ReadDir("testdata")
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".wasm") {
			if b, err := os.ReadFile(filepath.Join("testdata", e.Name())); err == nil {
				f.Add(b)
			}
		}
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, in []byte) {
		sh, serr := ReadShape(in)
		if wasmbin.Check(in) != nil {
			return // wazero must never see it (see FuzzServePath)
		}
		cm, err := rt.CompileModule(ctx, in)
		if err != nil {
			return
		}
		defer cm.Close(ctx)
		if serr != nil {
			t.Fatalf("wazero compiles the module but ReadShape fails: %v", serr)
		}
		for name := range cm.ExportedFunctions() {
			if !sh.Exports(name) {
				t.Errorf("ReadShape misses exported function %q", name)
			}
		}
		if len(sh.Funcs) != len(cm.ExportedFunctions()) {
			t.Errorf("ReadShape found %d exported functions, wazero %d", len(sh.Funcs), len(cm.ExportedFunctions()))
		}
		for _, f := range cm.ImportedFunctions() {
			if mod, _, _ := f.Import(); !sh.Imports(mod) {
				t.Errorf("ReadShape misses import module %q", mod)
			}
		}
	})
}
