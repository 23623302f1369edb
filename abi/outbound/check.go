package outbound

import (
	"fmt"
	"slices"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
)

func init() { abi.RegisterExtension(extension{}) }

// extension describes the module to abi.Inspect, for `wasmserve check`.
type extension struct{}

func (extension) Module() string { return ModuleName }

func (extension) CheckImport(name string, params, results []api.ValueType) error {
	want, ok := Signatures[name]
	switch {
	case !ok:
		return fmt.Errorf("%s does not define %s (see docs/outbound.md)", ModuleName, name)
	case !slices.Equal(params, want.Params) || !slices.Equal(results, want.Results):
		return fmt.Errorf("wrong signature: want %s", want)
	}
	return nil
}

// String spells s as "(i32, i32) -> i32".
func (s Signature) String() string {
	names := func(ts []api.ValueType) string {
		out := ""
		for i, t := range ts {
			if i > 0 {
				out += ", "
			}
			out += api.ValueTypeName(t)
		}
		return out
	}
	r := names(s.Results)
	if r == "" {
		r = "()"
	}
	return "(" + names(s.Params) + ") -> " + r
}

// Validate checks that every function cm imports from [ModuleName] exists
// with the signature it expects. The error names the first that does not.
func Validate(cm wazero.CompiledModule) error {
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != ModuleName {
			continue
		}
		if err := (extension{}).CheckImport(name, f.ParamTypes(), f.ResultTypes()); err != nil {
			return fmt.Errorf("module imports %s.%s: %w", mod, name, err)
		}
	}
	return nil
}
