// Package executor is the contract between the handler core and the ways of
// running a module for a request: the http-wasm handler ABI
// (host/executor/httpwasm), CGI for a WASI command (host/executor/cgi), and
// whatever comes next. An executor owns what is particular to its way — the
// host modules its guests import, the check of a compiled module, the state
// of each isolate and the request itself — and the core owns everything
// else: the pool, the handler timeout and its watchdog, the limits, reloads,
// the error answers.
//
// The life of an executor:
//
//  1. A [Kind] recognises the modules it runs from their imports and exports
//     (Kind.Detect), or is chosen by name.
//  2. Kind.New makes the executor once per handler, from an [Env]: what the
//     core lends it, never the core itself.
//  3. Executor.Pool says what it needs of the pool of each module it runs (a
//     [PoolSpec]); the core builds the pool, which compiles the module and
//     validates it with PoolSpec.Validate.
//  4. Executor.NewInstance makes the state of every new isolate, before the
//     isolate is instantiated (so that its start function's host calls can
//     find it); Instance.Bind attaches the instantiated module.
//  5. Instance.Handle serves one request at a time and says how it ended in
//     an [Outcome].
package executor

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/runtimepool"
	"github.com/wasmserve/wasmserve/runtimepool/component"
)

// Kind names an executor, recognises its modules and makes it.
type Kind struct {
	// Name is how a configuration names it ("http-wasm", "cgi").
	Name string
	// Title names it for people, in the banner and `check`.
	Title string
	// Detect reports whether a module of this shape is for this kind,
	// and why, in words for the banner ("it imports http_handler").
	Detect func(runtimepool.Shape) (why string, ok bool)
	// Inspect reports how a compiled module fits the executor, listing
	// every problem, for `check`. exts are the import modules of the
	// handler's extensions, which every executor's guests may import.
	Inspect func(cm wazero.CompiledModule, exts []ImportChecker) *Report
	// New makes the executor.
	New func(Env) (Executor, error)
	// Component, when set, makes the kind one that runs components (the
	// component model of WASI 0.2) instead of core modules: Detect and
	// Inspect are then unused, the executor's PoolSpec.ComponentHost
	// links the component's imports, and its instances implement
	// ComponentBinder.
	Component *ComponentKind
}

// ComponentKind is what a Kind that runs components adds to it.
type ComponentKind struct {
	// Detect reports whether a component, by what it imports and
	// exports, is for this kind, and why, in words for the banner.
	Detect func(*component.Info) (why string, ok bool)
}

// ComponentBinder is an Instance of a component kind: it is bound to the
// isolate's component instance rather than to a core module.
type ComponentBinder interface {
	// BindComponent attaches the new component instance.
	BindComponent(*component.Instance) error
}

// ImportChecker checks a module's imports of one import module that is not
// the executor's own (an extension's).
type ImportChecker interface {
	// ModuleName is the import module's name.
	ModuleName() string
	// CheckImport says why an import of the function name with these
	// types does not fit; nil when it does.
	CheckImport(name string, params, results []api.ValueType) error
}

// Env is what the handler core lends an executor.
type Env struct {
	// Logger receives the executor's logs. Never nil.
	Logger *slog.Logger
	// Output is the rate limit of guest output, shared by every isolate
	// of the handler, for the executor's own writers. Never nil.
	Output *OutputLimiter
	// MaxBody is the handler's request body limit in bytes; 0 means none.
	MaxBody int64
	// Env is the guest's WASI environment as KEY=VALUE pairs.
	Env []string
	// Dirs are the host directories granted to the guest.
	Dirs []runtimepool.Dir
	// Extensions are the import modules of the handler's extensions,
	// which the executor's guests may import beside its own.
	Extensions []ImportChecker
}

// Executor runs the modules of one kind for a handler.
type Executor interface {
	// Pool says what the executor needs of the pool of a module.
	Pool() PoolSpec
	// NewInstance returns the executor's state of the new isolate id, and
	// the context to instantiate it with.
	NewInstance(ctx context.Context, id string) (context.Context, Instance)
}

// PoolSpec is what an executor needs of a pool. The zero value needs
// nothing beyond WASI.
type PoolSpec struct {
	// Installers define the host modules the executor's guests import.
	Installers []runtimepool.Installer
	// Validate, when set, checks the compiled module; its error refuses
	// the module.
	Validate func(wazero.CompiledModule) error
	// ResetSafeImports are host modules, or "module.function" names,
	// whose functions keep no state of an instance between requests (see
	// runtimepool.Config.ResetSafeImports).
	ResetSafeImports []string
	// WASI, when set, defines wasi_snapshot_preview1 in place of wazero's.
	WASI runtimepool.Installer
	// NoStart instantiates isolates without running their start function,
	// for an executor that runs it on every request.
	NoStart bool
	// OneRequestPerIsolate makes every isolate serve one request and then
	// be reset or replaced, whatever the handler's configuration says.
	OneRequestPerIsolate bool
	// IsolatesPerCPU is the pool size per CPU when the handler's
	// configuration leaves it to the executor; 0 means one.
	IsolatesPerCPU int
	// ComponentHost is the host a component kind's components are linked
	// against: the interfaces they may import.
	ComponentHost *component.Host
	// Stdio, when set, gives each use of an isolate its own standard
	// streams, from its instance; guest output then does not go to the
	// log through the core. A nil stdin reads as empty, a nil writer
	// discards.
	Stdio func(Instance) (stdin io.Reader, stdout, stderr io.Writer)
}

// Instance is an executor's state of one isolate.
type Instance interface {
	// Bind attaches the instantiated module.
	Bind(mod api.Module) error
	// Handle serves one request. ctx is the call's context: it carries
	// the handler timeout when the pool interrupts through it.
	Handle(ctx context.Context, w http.ResponseWriter, r *http.Request) Outcome
}

// Outcome is how a request on an isolate ended. The zero value is a request
// served, the isolate healthy.
type Outcome struct {
	// Err, when set, is why the isolate cannot serve again: the guest
	// trapped, timed out, exited or broke the ABI. The core discards the
	// isolate and answers a generic error unless Committed.
	Err error
	// ClientErr, when set and Err is not, is the client's fault: its
	// request body could not be read (over the limit, too slow,
	// malformed). The isolate is healthy; the core answers 413, 408 or
	// 400 unless Committed.
	ClientErr error
	// Committed says the response's status line is already sent: the
	// only answer left is to cut the response short.
	Committed bool
	// Reroute, when set, is the request to serve again, on another
	// isolate (a CGI local redirect). The isolate ended well.
	Reroute *http.Request
	// RequestID is the id the executor logged the failure under; empty
	// means the core's own.
	RequestID string
}
