// Package ext is the contract of a host extension: an import module
// wasmserve offers guests beyond their executor's own (outbound HTTP,
// package host/ext/outbound; key-value stores, package host/ext/kv), to
// every executor alike. A guest that does not import it runs on any host; one that does is checked against it and gets
// per-isolate state, begun and ended with every request.
//
// The handler core holds its extensions as a list
// (host.HandlerConfig.Extensions) and, for every module it loads:
//
//  1. installs each extension's host module (Install) in the module's
//     runtime, so that an import of it links;
//  2. checks the compiled module's imports of it (Validate);
//  3. for a module that imports it (the import module named by
//     ModuleName), makes each isolate's state (NewIsolate) before the
//     isolate is instantiated, and binds it to the instance (Bind);
//  4. around every request on such an isolate, calls Begin and End;
//
// and leaves Close to the extension's maker, once no handler uses it: one
// extension may serve several handlers.
package ext

import (
	"context"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Extension is one host extension of a handler. Its methods are called
// from the handler's goroutines and must be safe for concurrent use.
type Extension interface {
	// ModuleName is the import module the extension defines.
	ModuleName() string
	// Install defines the import module in a runtime.
	Install(ctx context.Context, rt wazero.Runtime) error
	// Validate checks a compiled module's imports of the import module;
	// its error refuses the module. A module that does not import it
	// passes.
	Validate(cm wazero.CompiledModule) error
	// CheckImport says why an import of the function name with these
	// types does not fit; nil when it does. It makes `check`'s report.
	CheckImport(name string, params, results []api.ValueType) error
	// ResetSafe says that the extension keeps no state of an instance
	// from one request to the next once End has run, so that importing
	// it does not stop isolates from being reset to their state after
	// start.
	ResetSafe() bool
	// NewIsolate returns the extension's state of a new isolate id of a
	// module that imports it, and the context to instantiate it with
	// (derived from ctx), so that the start function's calls find it.
	NewIsolate(ctx context.Context, id string) (context.Context, Isolate)
	// Close releases what the extension holds (idle connections, open
	// stores), once no request runs any more.
	Close(ctx context.Context) error
}

// Isolate is an extension's state of one isolate.
type Isolate interface {
	// Bind attaches the instantiated module.
	Bind(mod api.Module) error
	// Begin starts a request on the isolate: ctx is the request's
	// context, deadline the time by which the extension's work for it
	// must end (zero: none).
	Begin(ctx context.Context, deadline time.Time)
	// End ends the request: nothing the request opened stays open.
	End()
}
