package wasmprep

import (
	"context"
	"slices"
	"testing"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// TestParseShape: the import modules and exported functions read from the
// bytes, and the errors of modules that do not parse.
func TestParseShape(t *testing.T) {
	export := func(name string, kind, index byte) []byte {
		b := wasmbin.AppendU32(nil, uint32(len(name)))
		return append(append(b, name...), kind, index)
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
			module(sec(2, vec(importEntry("http_handler", "log", 0, 0), importEntry("env", "m", 2, 0, 1),
				importEntry("http_handler", "get_uri", 0, 0), importEntry("env", "g", 3, 0x7F, 0),
				importEntry("env", "t", 1, 0x70, 0, 1))...)),
			[]string{"http_handler", "env"}, nil, ""},
		{"exported functions only", module(sec(7, vec(export("_start", 0, 0), export("memory", 2, 0),
			export("handle_request", 0, 1))...)), nil, []string{"_start", "handle_request"}, ""},
		{"a real module parses", readWasm(t, "reset.wasm"), nil, nil, ""},
		{"not wasm", []byte("hello"), nil, nil, "not a WebAssembly binary"},
		{"section beyond the end", append(module(), 2, 100, 0), nil, nil, "section size 100 overruns the module"},
		{"import count beyond its bytes", module(sec(2, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F)), nil, nil, "import section"},
		{"unknown import kind", module(sec(2, vec(importEntry("env", "x", 9))...)), nil, nil, "unknown import kind 0x09"},
		{"truncated export", module(sec(7, 1, 5, 'a')), nil, nil, "export section"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse(c.in)
			if refused(t, err, c.err) || c.name == "a real module parses" {
				return // a real module's contents are checked against wazero below
			}
			sh := m.Shape()
			if !slices.Equal(sh.ImportModules, c.modules) || !slices.Equal(sh.Funcs, c.funcs) {
				t.Errorf("got modules %q funcs %q, want %q %q", sh.ImportModules, sh.Funcs, c.modules, c.funcs)
			}
		})
	}
}

// FuzzShape: no input panics Parse, and for every module wazero compiles
// it accepts it and finds the same import modules and exported functions.
func FuzzShape(f *testing.F) {
	fixtureSeeds(f)
	rt, ctx := fuzzRuntime(f), context.Background()
	f.Fuzz(func(t *testing.T, in []byte) {
		m, serr := Parse(in)
		if !compiles(rt, in) {
			return
		}
		cm, _ := rt.CompileModule(ctx, in)
		defer cm.Close(ctx)
		if serr != nil {
			t.Fatalf("wazero compiles the module but Parse fails: %v", serr)
		}
		sh := m.Shape()
		for name := range cm.ExportedFunctions() {
			if !sh.Exports(name) {
				t.Errorf("Shape misses exported function %q", name)
			}
		}
		if len(sh.Funcs) != len(cm.ExportedFunctions()) {
			t.Errorf("Shape found %d exported functions, wazero %d", len(sh.Funcs), len(cm.ExportedFunctions()))
		}
		for _, f := range cm.ImportedFunctions() {
			if mod, _, _ := f.Import(); !sh.Imports(mod) {
				t.Errorf("Shape misses import module %q", mod)
			}
		}
	})
}
