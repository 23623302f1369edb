package host

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/executor/cgi"
	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/internal/wasmbin"
	"github.com/wasmserve/wasmserve/internal/wasmprep"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// DefaultExecutors are the executors of a HandlerConfig without its own:
// http-wasm, then CGI, with their zero configurations.
func DefaultExecutors() []executor.Kind {
	return []executor.Kind{httpwasm.Kind(httpwasm.Config{}), cgi.Kind}
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
// a core module is needed.
var ErrComponent = errors.New("this is a WebAssembly component (WASI 0.2); wasmserve serves core modules")

// checkFormat reads the binary's format before any format's own checks: a
// component is ErrComponent, which no core module check could describe.
func checkFormat(wasm []byte) error {
	format, err := wasmbin.DetectFormat(wasm)
	if err != nil {
		return err
	}
	if format == wasmbin.FormatComponent {
		return ErrComponent
	}
	return nil
}

// parseModule reads the binary's format (checkFormat), then parses a core
// module once (wasmprep.Parse: the structural check, the sections, the
// imports and exports) for every later question and pass, with the error
// saying what was read.
func parseModule(wasm []byte) (*wasmprep.Module, error) {
	if err := checkFormat(wasm); err != nil {
		return nil, err
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
			if k.Name == abi {
				return k, "chosen by configuration", nil
			}
		}
		return kind, "", fmt.Errorf("unknown ABI %q: want one of %s", abi, strings.Join(abiNames(kinds), ", "))
	}
	for _, k := range kinds {
		if why, ok := k.Detect(shape); ok {
			return k, why, nil
		}
	}
	return kinds[0], "no ABI recognised it; tried the default", nil
}
