// Package componenttest loads component fixtures for tests: a component
// against a host, in a wazero runtime of its own, instantiated once, and
// everything closed when the test ends.
package componenttest

import (
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/runtimepool/component"
)

// Load loads the component at path against host, instantiates it, and
// closes the instance, the component and its runtime when tb ends. Any
// failure fails tb, naming the file.
func Load(tb testing.TB, path string, host *component.Host) (*component.Component, *component.Instance) {
	tb.Helper()
	bin, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	tb.Cleanup(func() { rt.Close(ctx) })
	c, err := component.Load(ctx, rt, bin, host)
	if err != nil {
		tb.Fatalf("loading %s: %v", path, err)
	}
	inst, err := c.Instantiate(ctx)
	if err != nil {
		c.Close(ctx)
		tb.Fatalf("instantiating %s: %v", path, err)
	}
	tb.Cleanup(func() {
		inst.Close(ctx)
		c.Close(ctx)
	})
	return c, inst
}
