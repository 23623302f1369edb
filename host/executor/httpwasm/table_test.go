package httpwasm

import (
	"context"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/abi"
	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/internal/hostmodule"
)

// TestFunctionsMatchTable: the host implements every function of
// abi.Functions and nothing else, and defines each with the table's
// signature.
func TestFunctionsMatchTable(t *testing.T) {
	if err := hostmodule.Verify(context.Background(), abi.ModuleName, abi.Functions, (&Host{}).Install); err != nil {
		t.Error(err)
	}
}

// TestValidateIsInspect: Validate refuses a module for what Inspect
// reports, here an import that neither the ABI nor an extension provides.
func TestValidateIsInspect(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, probeWasm)
	if err != nil {
		t.Fatal(err)
	}
	rep := Inspect(cm, nil)
	if rep.OK() || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "imports test.hook") {
		t.Fatalf("Inspect without the test extension: %q, want one problem with test.hook", rep.Problems)
	}
	err = Validate(cm, nil)
	if err == nil || err.Error() != "module "+rep.Problems[0] {
		t.Errorf("Validate = %v, want the problem Inspect found", err)
	}
	if err := Validate(cm, []executor.ImportChecker{hookImport{}}); err != nil {
		t.Errorf("Validate with the test extension: %v", err)
	}
}
