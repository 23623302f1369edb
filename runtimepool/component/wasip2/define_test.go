package wasip2

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/runtimepool/component"
)

func TestDefine(t *testing.T) {
	t.Parallel()
	var h component.Host
	if err := Define(&h, Config{}); err != nil {
		t.Fatal(err)
	}
	if err := Define(&h, Config{}); err == nil {
		t.Fatal("defining twice into one host succeeded")
	}
}

func TestInspectJSHello(t *testing.T) {
	t.Parallel()
	bin, err := os.ReadFile("/tmp/jshello/hello.wasm")
	if err != nil {
		t.Skip("no componentize-js hello component here:", err)
	}
	var h component.Host
	if err := Define(&h, Config{}); err != nil {
		t.Fatal(err)
	}
	info, err := component.Inspect(bin, &h)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range info.Missing {
		if !strings.HasPrefix(m, "wasi:http/") {
			t.Errorf("missing %s", m)
		}
	}
}

// TestEveryImport links a component importing every function and resource
// of wasi:cli/imports@0.2.12 (testdata/imports.sh): each signature Define
// implements must equal the WIT's, and nothing may be missing.
func TestEveryImport(t *testing.T) {
	t.Parallel()
	bin, err := os.ReadFile("testdata/imports.wasm")
	if err != nil {
		t.Fatal(err)
	}
	var h component.Host
	if err := Define(&h, Config{}); err != nil {
		t.Fatal(err)
	}
	info, err := component.Inspect(bin, &h)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Missing) > 0 {
		t.Fatalf("missing: %v", info.Missing)
	}
	if len(info.Imports) < 27 {
		t.Fatalf("only %d imports", len(info.Imports))
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	c, err := component.Load(ctx, rt, bin, &h)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inst.Close(ctx)
	c.Close(ctx)
}
