package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	contract "github.com/wasmserve/wasmserve/abi/outbound"
	"github.com/wasmserve/wasmserve/internal/hostmodule"
)

// Host is the host side of the wasmserve_http module, shared by every
// isolate of every runtime of one server. The zero value refuses every call
// (Send nil), allows [DefaultMaxPerRequest] calls a request and bounds a
// response body to [DefaultMaxBody].
type Host struct {
	// Send makes one call: it applies the policy and sends req, whose
	// context carries the call's deadline. With follow it follows
	// redirects (checking each hop); without, it returns a 3xx as it
	// is. id names the calling isolate, for logs. Its errors map to codes
	// by [CodeOf]: a refusal wraps [ErrRefused]. Nil refuses every call.
	Send func(id string, req *http.Request, follow bool) (*http.Response, error)
	// MaxCalls bounds the calls one request may make; 0 means
	// DefaultMaxPerRequest, negative means no bound.
	MaxCalls int
	// MaxResponseBody bounds a response body in bytes; 0 means
	// DefaultMaxBody, negative means no bound.
	MaxResponseBody int64
	// Timeout bounds each call, from request to close; 0 means only the
	// request's deadline does.
	Timeout time.Duration

	mods sync.Map // api.Module → *Calls: bound isolates not yet closed
}

// Install defines the wasmserve_http host module in r: every function of
// the contract's table (package abi/outbound), with the implementations of
// Host.functions. Its shape is what the runtime pool takes as a host-module
// installer.
func (h *Host) Install(ctx context.Context, r wazero.Runtime) error {
	return hostmodule.Define(ctx, r, contract.ModuleName, contract.Functions, h.functions())
}

// functions maps the name of every host function of wasmserve_http to its
// implementation for h. hostmodule.Define checks it against the contract's
// table.
func (h *Host) functions() map[string]api.GoModuleFunc {
	return map[string]api.GoModuleFunc{
		contract.FuncRequest:    h.request,
		contract.FuncAddHeader:  h.addHeader,
		contract.FuncWriteBody:  h.writeBody,
		contract.FuncSend:       h.send,
		contract.FuncGetHeaders: h.getHeaders,
		contract.FuncReadBody:   h.readBody,
		contract.FuncClose:      h.close,
		contract.FuncGetError:   h.getError,
	}
}

// NewCalls returns the outbound state of a new isolate named id. Instantiate
// the isolate's module with [Calls.Context], then [Calls.Bind] it.
func (h *Host) NewCalls(id string) *Calls {
	return &Calls{host: h, ID: id}
}

// Calls is the outbound state of one isolate: the calls of its request in
// flight. The server brackets each request with Begin and End; between them
// the guest's host calls find it from their module. It is used by one
// request at a time, like its isolate.
type Calls struct {
	// ID names the isolate in log lines.
	ID string

	host *Host
	mod  api.Module

	active   bool
	parent   context.Context
	deadline time.Time
	made     int
	handles  []*call // handle i+1; nil once closed
	lastErr  string
}

// Context returns a context derived from parent to instantiate the
// isolate's module with: it forgets the module when the module is closed.
func (c *Calls) Context(parent context.Context) context.Context {
	return experimental.WithCloseNotifier(parent, experimental.CloseNotifyFunc(func(context.Context, uint32) {
		if c.mod != nil {
			c.host.mods.Delete(c.mod)
		}
	}))
}

// Bind makes the host functions called by mod find c. A module instantiated
// with c.Context is forgotten again when it is closed.
func (c *Calls) Bind(mod api.Module) {
	c.mod = mod
	c.host.mods.Store(mod, c)
	if mod.IsClosed() {
		// Closed before it was bound: the notifier found nothing.
		c.host.mods.Delete(mod)
	}
}

// Begin starts a request: until End, the guest may make calls, under ctx
// (the client's request: its end cancels them) and until deadline (zero:
// none besides the Host's Timeout).
func (c *Calls) Begin(ctx context.Context, deadline time.Time) {
	c.active, c.parent, c.deadline = true, ctx, deadline
}

// End ends the request: every call the guest left open is closed and
// cancelled, and the count of calls starts again.
func (c *Calls) End() {
	for i, k := range c.handles {
		if k != nil {
			k.close()
			c.handles[i] = nil
		}
	}
	c.handles = c.handles[:0]
	c.active, c.parent, c.made, c.lastErr = false, nil, 0, ""
}

// Made returns how many calls the request in flight has made.
func (c *Calls) Made() int { return c.made }

// calls returns the state of mod, nil when none is bound (the start
// function runs before Bind).
func (h *Host) calls(mod api.Module) *Calls {
	v, _ := h.mods.Load(mod)
	c, _ := v.(*Calls)
	return c
}

func (h *Host) maxCalls() int {
	if h.MaxCalls == 0 {
		return DefaultMaxPerRequest
	}
	return h.MaxCalls
}

func (h *Host) maxBody() int64 {
	if h.MaxResponseBody == 0 {
		return DefaultMaxBody
	}
	return h.MaxResponseBody
}

// TrapError is the error a host function raises, as a trap of the calling
// guest, when the guest broke the module's contract: a pointer out of range.
type TrapError struct {
	// Func is the host function that trapped.
	Func string
	// Reason says what the guest did wrong.
	Reason string
}

// Error names the host function that trapped, as module.function, and why.
func (e *TrapError) Error() string { return contract.ModuleName + "." + e.Func + ": " + e.Reason }

// view returns mod's memory [ptr, ptr+n) or traps naming fn.
func view(mod api.Module, fn string, ptr, n uint32) []byte {
	mem := mod.Memory()
	if mem == nil {
		panic(&TrapError{Func: fn, Reason: "the module has no memory"})
	}
	b, ok := mem.Read(ptr, n)
	if !ok {
		panic(&TrapError{Func: fn, Reason: fmt.Sprintf("memory range [%d, %d+%d) is outside the guest's %d bytes of memory", ptr, ptr, n, mem.Size())})
	}
	return b
}

// Errors a [Host.Send] returns, wrapped, for the codes that are not plain
// network failures.
var (
	// ErrRefused is a call the policy refused: CodeRefused.
	ErrRefused = errors.New("refused by the outbound policy")
	// ErrTooBig is a response body over the limit: CodeTooBig.
	ErrTooBig = errors.New("response body too large")
)

// CodeOf maps an error of a call to the code its host function returns.
func CodeOf(err error) contract.Code {
	switch {
	case errors.Is(err, ErrRefused):
		return contract.CodeRefused
	case errors.Is(err, ErrTooBig):
		return contract.CodeTooBig
	case errors.Is(err, context.Canceled):
		return contract.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return contract.CodeTimeout
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return contract.CodeTimeout
	}
	return contract.CodeNetwork
}

// CheckImport says why an import of the function name of wasmserve_http
// with these types does not fit the contract's table; nil when it does.
func CheckImport(name string, params, results []api.ValueType) error {
	want, ok := contract.Functions.Lookup(name)
	switch {
	case !ok:
		return fmt.Errorf("%s does not define %s (see docs/outbound.md)", contract.ModuleName, name)
	case !want.Match(params, results):
		return fmt.Errorf("wrong signature: want %s", want.Signature)
	}
	return nil
}

// Validate checks that every function cm imports from wasmserve_http is in
// the contract's table with the signature it expects. The error names the
// first that is not.
func Validate(cm wazero.CompiledModule) error {
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != contract.ModuleName {
			continue
		}
		if err := CheckImport(name, f.ParamTypes(), f.ResultTypes()); err != nil {
			return fmt.Errorf("module imports %s.%s: %w", mod, name, err)
		}
	}
	return nil
}
