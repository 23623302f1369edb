package outbound

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// Host is the host side of the wasmserve_http module, shared by every
// isolate of every runtime of one server. The zero value refuses every call
// (Send nil), allows [DefaultMaxCalls] calls a request and bounds a
// response body to [DefaultMaxResponseBody].
type Host struct {
	// Send makes one call: it applies the policy and sends req, whose
	// context carries the call's deadline. With follow it follows
	// redirects (checking each hop); without, it returns a 3xx as it
	// is. id names the calling isolate, for logs. Its errors map to codes
	// by [CodeOf]: a refusal wraps [ErrRefused]. Nil refuses every call.
	Send func(id string, req *http.Request, follow bool) (*http.Response, error)
	// MaxCalls bounds the calls one request may make; 0 means
	// DefaultMaxCalls, negative means no bound.
	MaxCalls int
	// MaxResponseBody bounds a response body in bytes; 0 means
	// DefaultMaxResponseBody, negative means no bound.
	MaxResponseBody int64
	// Timeout bounds each call, from request to close; 0 means only the
	// request's deadline does.
	Timeout time.Duration

	mods sync.Map // api.Module → *Calls: bound isolates not yet closed
}

// Defaults of the zero Host.
const (
	DefaultMaxCalls        = 32
	DefaultMaxResponseBody = 10 << 20
)

// Install defines the wasmserve_http host module in r. Its shape is what
// the runtime pool takes as a host-module installer.
func (h *Host) Install(ctx context.Context, r wazero.Runtime) error {
	b := r.NewHostModuleBuilder(ModuleName)
	for name, fn := range map[string]api.GoModuleFunc{
		FuncRequest:    h.request,
		FuncAddHeader:  h.addHeader,
		FuncWriteBody:  h.writeBody,
		FuncSend:       h.send,
		FuncGetHeaders: h.getHeaders,
		FuncReadBody:   h.readBody,
		FuncClose:      h.close,
		FuncGetError:   h.getError,
	} {
		s := Signatures[name]
		b.NewFunctionBuilder().WithGoModuleFunction(fn, s.Params, s.Results).WithName(name).Export(name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("instantiating host module %s: %w", ModuleName, err)
	}
	return nil
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
		return DefaultMaxCalls
	}
	return h.MaxCalls
}

func (h *Host) maxBody() int64 {
	if h.MaxResponseBody == 0 {
		return DefaultMaxResponseBody
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

func (e *TrapError) Error() string { return ModuleName + "." + e.Func + ": " + e.Reason }

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
