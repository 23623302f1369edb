package hostmodule

import (
	"context"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
)

var table = abi.Table{
	{Name: "f", Signature: abi.Signature{Params: []abi.ValueType{abi.I32}, Results: []abi.ValueType{abi.I64}}},
	{Name: "g"},
}

func nop(context.Context, api.Module, []uint64) {}

// TestCheck: a function missing from either side is an error, and Define
// then defines nothing.
func TestCheck(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		impl map[string]api.GoModuleFunc
		want string
	}{
		{"missing", map[string]api.GoModuleFunc{"f": nop}, "no implementation of [g]"},
		{"extra", map[string]api.GoModuleFunc{"f": nop, "g": nop, "h": nop}, "[h] implemented but not in its table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			err := Define(ctx, rt, "m", table, tc.impl)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Define = %v, want %q", err, tc.want)
			}
			if rt.Module("m") != nil {
				t.Error("a module was defined")
			}
		})
	}
}

// TestDefine: every function is defined with the table's signature.
func TestDefine(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if err := Define(ctx, rt, "m", table, map[string]api.GoModuleFunc{"f": nop, "g": nop}); err != nil {
		t.Fatal(err)
	}
	defs := rt.Module("m").ExportedFunctionDefinitions()
	for _, f := range table {
		d, ok := defs[f.Name]
		if !ok || !f.Match(d.ParamTypes(), d.ResultTypes()) {
			t.Errorf("%s: defined %v, want %s", f.Name, ok, f.Signature)
		}
	}
}
