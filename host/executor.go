package host

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
	"github.com/wasmserve/wasmserve/internal/wasmbin"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// An executor is one way of running a module for a request (DESIGN.md §5):
// the http-wasm handler ABI, or CGI for a WASI command. It owns what is
// particular to that way — the host modules the guest imports, the check of
// the compiled module, the per-isolate state and the request itself — and
// the Handler owns everything else: the pool, the handler timeout and its
// watchdog, the limits, reloads and errors. The life of an executor:
//
//  1. Its kind is chosen for a module, from the module's imports and
//     exports (executorKind.detect) or by HandlerConfig.ABI.
//  2. configure fills in its part of the generation's pool configuration;
//     the pool compiles the module and validates it with it.
//  3. prepare makes the state of every new isolate, before the isolate is
//     instantiated (so its start function's host calls can find it), and
//     the instance binds the isolate's module.
//  4. The instance handles requests, one at a time; an error discards the
//     isolate.
//
// Adding an executor is one file with its executorKind, and its entry in
// executorKinds.
type executor interface {
	// configure sets the executor's fields of pc: Installers, Validate,
	// ResetSafeImports, and whatever else its guests need.
	configure(pc *runtimepool.Config[*isolateState])
	// prepare returns the state of the new isolate id, and the context to
	// instantiate it with.
	prepare(ctx context.Context, id string) (context.Context, instance)
}

// An instance is an executor's state of one isolate. *abi.Guest is the
// http-wasm one.
type instance interface {
	// Bind attaches the instantiated module.
	Bind(mod api.Module) error
	// Handle serves one request. ctx is the call's context: it carries
	// the handler timeout when the pool interrupts through it. An error
	// means the isolate cannot serve again.
	Handle(ctx context.Context, w http.ResponseWriter, r *http.Request) error
}

// A requestError is an instance's error for one request that tells the
// Handler what it cannot see: the request id the instance logged under, and
// whether the response's status was already sent (then the response can
// only be cut short).
type requestError struct {
	err       error
	id        string
	committed bool
}

func (e *requestError) Error() string { return e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

// A reroute is an instance's answer that the request is to be served again
// as r, on another isolate (a CGI local redirect, RFC 3875 §6.2.2). The
// isolate ended well.
type reroute struct{ r *http.Request }

func (e *reroute) Error() string { return "served again as " + e.r.RequestURI }

// An executorKind names an executor, recognises its modules, and makes it.
type executorKind struct {
	// name is how HandlerConfig.ABI names it.
	name string
	// title names it for people, in the banner and `check`.
	title string
	// detect reports whether a module of this shape is for this kind,
	// and why, in words for the banner ("it imports http_handler").
	detect func(runtimepool.Shape) (why string, ok bool)
	// inspect reports how a compiled module fits the executor, listing
	// every problem, for `check`.
	inspect func(wazero.CompiledModule) *abi.Report
	// make returns the executor for h.
	make func(h *Handler) (executor, error)
}

// executorKinds are the ways of running a module, in the order automatic
// detection tries them.
var executorKinds = []executorKind{httpWasmKind, cgiKind}

// ABIAuto is the HandlerConfig.ABI that chooses the executor from the
// module's imports and exports; "" means the same.
const ABIAuto = "auto"

// ABINames lists the values HandlerConfig.ABI accepts.
func ABINames() []string {
	names := []string{ABIAuto}
	for _, k := range executorKinds {
		names = append(names, k.name)
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

// readShape reads the binary's format (checkFormat), then a core module's
// imports and exports (runtimepool.ReadShape, which runs its structural
// check), with the error saying what was read.
func readShape(wasm []byte) (runtimepool.Shape, error) {
	if err := checkFormat(wasm); err != nil {
		return runtimepool.Shape{}, err
	}
	shape, err := runtimepool.ReadShape(wasm)
	if err != nil {
		return shape, fmt.Errorf("reading the module's imports and exports: %w", err)
	}
	return shape, nil
}

// pickExecutor picks the executor kind for a module of the given shape:
// the one named by abi, or with abi empty or ABIAuto the first whose detect
// accepts the module. A module none accepts gets the first kind, whose
// validation then says what the module lacks. why says how the kind was
// chosen.
func pickExecutor(abi string, shape runtimepool.Shape) (kind executorKind, why string, err error) {
	if abi != "" && abi != ABIAuto {
		for _, k := range executorKinds {
			if k.name == abi {
				return k, "chosen by configuration", nil
			}
		}
		return kind, "", fmt.Errorf("unknown ABI %q: want one of %s", abi, strings.Join(ABINames(), ", "))
	}
	for _, k := range executorKinds {
		if why, ok := k.detect(shape); ok {
			return k, why, nil
		}
	}
	return executorKinds[0], "no ABI recognised it; tried the default", nil
}
