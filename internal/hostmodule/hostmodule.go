// Package hostmodule defines a wazero host module from its contract's table
// of functions (an abi.Table) and a Go implementation of each: the one way
// both of wasmserve's import modules, http_handler and wasmserve_http, are
// installed, so that a function the table lists and the host lacks, or the
// other way round, is an error rather than a link failure in some guest.
package hostmodule

import (
	"context"
	"fmt"
	"sort"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
)

// Check reports an error unless impl implements exactly the functions of
// table: none missing, none the table does not list.
func Check(module string, table abi.Table, impl map[string]api.GoModuleFunc) error {
	var missing, extra []string
	for _, f := range table {
		if impl[f.Name] == nil {
			missing = append(missing, f.Name)
		}
	}
	for name := range impl {
		if _, ok := table.Lookup(name); !ok {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	switch {
	case missing != nil:
		return fmt.Errorf("host module %s: no implementation of %v", module, missing)
	case extra != nil:
		return fmt.Errorf("host module %s: %v implemented but not in its table", module, extra)
	}
	return nil
}

// Define instantiates the host module named module in r, with every
// function of table, in table order, implemented by impl under the table's
// signature. It fails, defining nothing, unless [Check] passes.
func Define(ctx context.Context, r wazero.Runtime, module string, table abi.Table, impl map[string]api.GoModuleFunc) error {
	if err := Check(module, table, impl); err != nil {
		return err
	}
	b := r.NewHostModuleBuilder(module)
	for _, f := range table {
		params, results := f.Codes()
		b.NewFunctionBuilder().WithGoModuleFunction(impl[f.Name], params, results).WithName(f.Name).Export(f.Name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("instantiating host module %s: %w", module, err)
	}
	return nil
}

// Verify installs a host module with install in a runtime of its own and
// reports an error unless the module named module defines exactly the
// functions of table, each with the table's signature: what a host's tests
// assert of its installation.
func Verify(ctx context.Context, module string, table abi.Table, install func(context.Context, wazero.Runtime) error) error {
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	if err := install(ctx, r); err != nil {
		return err
	}
	m := r.Module(module)
	if m == nil {
		return fmt.Errorf("host module %s is not instantiated", module)
	}
	defs := m.ExportedFunctionDefinitions()
	if len(defs) != len(table) {
		return fmt.Errorf("host module %s defines %d functions, its table lists %d", module, len(defs), len(table))
	}
	for _, f := range table {
		d, ok := defs[f.Name]
		if !ok {
			return fmt.Errorf("host module %s does not define %s", module, f.Name)
		}
		if !f.Match(d.ParamTypes(), d.ResultTypes()) {
			return fmt.Errorf("host module %s defines %s with another signature than %s", module, f.Name, f.Signature)
		}
	}
	return nil
}
