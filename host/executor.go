package host

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/executor/cgi"
	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/host/executor/wasihttp"
	"github.com/wasmserve/wasmserve/internal/wasmprep"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// DefaultExecutors are the executors of a HandlerConfig without its own:
// http-wasm, then CGI for core modules, and wasi:http for components, with
// their zero configurations.
func DefaultExecutors() []executor.Kind {
	return []executor.Kind{httpwasm.Kind(httpwasm.Config{}), cgi.Kind, wasihttp.Kind(wasihttp.KindConfig{})}
}

// ABIAuto is the HandlerConfig.ABI that chooses the executor from the
// module's imports and exports; "" means the same.
const ABIAuto = "auto"

// ABINames lists the values HandlerConfig.ABI accepts with the default
// executors.
func ABINames() []string { return abiNames(DefaultExecutors()) }

func abiNames(kinds []executor.Kind) []string {
	names := []string{ABIAuto}
	for _, k := range kinds {
		names = append(names, k.Name)
	}
	return names
}

// ErrComponent is the error for a WebAssembly component (WASI 0.2) where
// no executor that runs components is configured.
var ErrComponent = errors.New("this is a WebAssembly component (WASI 0.2), and no executor for components is configured")

// parseModule parses a core module once (wasmprep.Parse: the structural
// check, the sections, the imports and exports) for every later question
// and pass, with the error saying what was read. A component is
// ErrComponent: the caller reads the format first (isComponent).
func parseModule(wasm []byte) (*wasmprep.Module, error) {
	if comp, err := isComponent(wasm); err != nil {
		return nil, err
	} else if comp {
		return nil, ErrComponent
	}
	mod, err := wasmprep.Parse(wasm)
	if err != nil {
		return nil, fmt.Errorf("reading the module's imports and exports: %w", err)
	}
	return mod, nil
}

// pickExecutor picks the executor kind for a module of the given shape:
// the one named by abi, or with abi empty or ABIAuto the first whose Detect
// accepts the module. A module none accepts gets the first kind, whose
// validation then says what the module lacks. why says how the kind was
// chosen.
func pickExecutor(kinds []executor.Kind, abi string, shape runtimepool.Shape) (kind executor.Kind, why string, err error) {
	if len(kinds) == 0 {
		return kind, "", errors.New("no executor is configured")
	}
	if abi != "" && abi != ABIAuto {
		for _, k := range kinds {
			if k.Name == abi && k.Component != nil {
				return kind, "", fmt.Errorf("--abi %s runs WebAssembly components (WASI 0.2), and this is a core module; leave --abi at auto", abi)
			}
			if k.Name == abi {
				return k, "chosen by configuration", nil
			}
		}
		return kind, "", fmt.Errorf("unknown ABI %q: want one of %s", abi, strings.Join(abiNames(kinds), ", "))
	}
	var first *executor.Kind
	for i, k := range kinds {
		if k.Component != nil {
			continue
		}
		if first == nil {
			first = &kinds[i]
		}
		if why, ok := k.Detect(shape); ok {
			return k, why, nil
		}
	}
	if first == nil {
		return kind, "", errors.New("no executor for core modules is configured")
	}
	return *first, "no ABI recognised it; tried the default", nil
}
