package httpwasm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
	"github.com/wasmserve/wasmserve/host/reqinfo"
	"github.com/wasmserve/wasmserve/internal/hostmodule"
	"github.com/wasmserve/wasmserve/internal/logsafe"
)

// Host is the host side of the http_handler import module, shared by every
// isolate of one runtime. The zero value is valid: no guest config, logs
// discarded, and next answering 404.
type Host struct {
	// Logger receives guest log messages and host-side faults. Nil
	// discards them.
	Logger *slog.Logger
	// Config is what get_config returns to the guest. Nil is empty.
	Config []byte
	// Next is the handler called when handle_request returns next=1. It
	// gets the request as the guest left it. Nil answers 404. It may call
	// [ReportNextError] to make handle_response see is_error=1; a panic
	// in it counts as a failure too.
	Next http.Handler
	// MaxBufferedBody bounds the next handler's response body held for a
	// guest with the buffer_response feature, a larger one becoming a 502
	// with is_error=1, and the request body a guest writes for the next
	// handler (write_body of kind request), beyond which that call traps.
	// 0 means [DefaultMaxBufferedBody].
	MaxBufferedBody int64
	// MaxResponseHeaderBytes bounds the response headers and trailers a
	// guest sets or adds in one request, names and values counted as
	// given (removing one gives nothing back); the call that goes over
	// traps. 0 means [DefaultMaxResponseHeaderBytes].
	MaxResponseHeaderBytes int
	// LogAllow, when set, is asked before each guest log message is
	// written: ok false drops it; dropped counts the messages dropped
	// since the last one let through, which is then reported. Nil logs
	// every message.
	LogAllow func() (ok bool, dropped int)
}

// DefaultMaxResponseHeaderBytes is the bound on the response headers a
// guest sets when [Host.MaxResponseHeaderBytes] is 0: 1 MiB, what net/http's
// client accepts by default (Transport.MaxResponseHeaderBytes is 10 MiB, but
// most proxies and browsers refuse far less).
const DefaultMaxResponseHeaderBytes = 1 << 20

func (h *Host) maxResponseHeaderBytes() int {
	if h.MaxResponseHeaderBytes > 0 {
		return h.MaxResponseHeaderBytes
	}
	return DefaultMaxResponseHeaderBytes
}

func (h *Host) maxBufferedBody() int64 {
	if h.MaxBufferedBody > 0 {
		return h.MaxBufferedBody
	}
	return DefaultMaxBufferedBody
}

// MaxLogMessage bounds one guest log message, in bytes; a longer one is cut
// and says by how much.
const MaxLogMessage = 4096

// logf logs a host-side event of a request at warn level.
func (h *Host) logf(r *http.Request, id, msg string, args ...any) {
	if h.Logger == nil {
		return
	}
	args = append(args, "isolate", id, "method", r.Method, "uri", r.RequestURI)
	h.Logger.Warn(msg, args...)
}

// Install defines the http_handler host module in r: every function of
// [abi.Functions], with the implementations of Host.functions. Its shape,
// func(context.Context, wazero.Runtime) error, is what the runtime pool
// takes as a host-module installer.
func (h *Host) Install(ctx context.Context, r wazero.Runtime) error {
	return hostmodule.Define(ctx, r, abi.ModuleName, abi.Functions, h.functions())
}

// functions maps the name of every host function of http_handler to its
// implementation for h. hostmodule.Define checks it against
// [abi.Functions].
func (h *Host) functions() map[string]api.GoModuleFunc {
	return map[string]api.GoModuleFunc{
		abi.FuncEnableFeatures:     h.enableFeatures,
		abi.FuncGetConfig:          h.getConfig,
		abi.FuncLogEnabled:         h.logEnabled,
		abi.FuncLog:                h.log,
		abi.FuncGetMethod:          getMethod,
		abi.FuncSetMethod:          setMethod,
		abi.FuncGetURI:             getURI,
		abi.FuncSetURI:             setURI,
		abi.FuncGetProtocolVersion: getProtocolVersion,
		abi.FuncGetSourceAddr:      getSourceAddr,
		abi.FuncGetHeaderNames:     getHeaderNames,
		abi.FuncGetHeaderValues:    getHeaderValues,
		abi.FuncSetHeaderValue:     setHeaderValue,
		abi.FuncAddHeaderValue:     addHeaderValue,
		abi.FuncRemoveHeader:       removeHeader,
		abi.FuncReadBody:           readBody,
		abi.FuncWriteBody:          writeBody,
		abi.FuncGetStatusCode:      getStatusCode,
		abi.FuncSetStatusCode:      setStatusCode,
	}
}

// TrapError is the error a host function raises, as a trap of the calling
// guest, when the guest broke the ABI: a pointer out of range, a call in the
// wrong phase, an invalid value.
type TrapError struct {
	// Func is the host function that trapped.
	Func string
	// Reason says what the guest did wrong.
	Reason string
	// Err is the underlying error, when a host operation failed (reading
	// the request body, for one); nil otherwise.
	Err error
}

// Error names the host function that trapped and why.
func (e *TrapError) Error() string { return e.Func + ": " + e.Reason }

// Unwrap returns the underlying error, if any.
func (e *TrapError) Unwrap() error { return e.Err }

// trap aborts the running guest call: wazero recovers the panic and returns
// it as the call's error. The exchange keeps the first trap so that the
// host can report it precisely.
func (g *Guest) trap(fn, format string, args ...any) {
	err := &TrapError{Func: fn, Reason: fmt.Sprintf(format, args...)}
	if g.ex.trap == nil {
		g.ex.trap = err
	}
	panic(err)
}

// guestKey finds the calling isolate's *Guest in the context of a call.
type guestKey struct{}

// guestCtx carries a *Guest through wazero into the host functions. One is
// kept per isolate for calls without a deadline, so that a call allocates
// no context.
type guestCtx struct {
	context.Context
	g *Guest
}

func (c *guestCtx) Value(key any) any {
	// A type test, not key == guestKey{}: that compares two interfaces
	// (runtime.efaceeq), and wazero asks for its own key on every call.
	if _, ok := key.(guestKey); ok {
		return c.g
	}
	return c.Context.Value(key)
}

func guestOf(ctx context.Context) *Guest {
	// wazero hands host functions the context of the call, which is the
	// guestCtx itself unless something wrapped it.
	if c, ok := ctx.(*guestCtx); ok {
		return c.g
	}
	g, _ := ctx.Value(guestKey{}).(*Guest)
	if g == nil {
		// Only a module instantiated without NewGuest can get here.
		panic(errors.New("http_handler: host function called outside a wasmserve isolate"))
	}
	return g
}

// startMemory gives the functions a start function may call (get_config,
// log) the memory of the calling module while g is not bound yet: Bind,
// which sets g.mem, runs only after the start function returned.
func (g *Guest) startMemory(mod api.Module) {
	if g.mem == nil && mod != nil {
		g.mem = mod.Memory()
	}
}

// view returns guest memory [ptr, ptr+n) or traps naming fn.
func (g *Guest) view(fn string, ptr, n uint32) []byte {
	if g.mem == nil {
		g.trap(fn, "the module has no memory")
	}
	b, ok := g.mem.Read(ptr, n)
	if !ok {
		g.trap(fn, "memory range [%d, %d+%d) is outside the guest's %d bytes of memory", ptr, ptr, n, g.mem.Size())
	}
	return b
}

// writeString copies s to guest memory at buf when it fits in limit and
// returns its length either way.
func (g *Guest) writeString(fn string, buf, limit uint32, s string) uint32 {
	n := uint32(len(s))
	if n > limit || n == 0 {
		return n
	}
	copy(g.view(fn, buf, n), s)
	return n
}

// request returns the exchange's request or traps when no request is in
// flight (the start function).
func (g *Guest) request(fn string) *http.Request {
	if g.ex.r == nil {
		g.trap(fn, "called outside a request (in the start function)")
	}
	return g.ex.r
}

func (h *Host) enableFeatures(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	f := abi.Features(uint32(stack[0])) & (abi.FeatureBufferRequest | abi.FeatureBufferResponse | abi.FeatureTrailers)
	if g.ex.r == nil {
		g.features |= f
		stack[0] = uint64(g.features)
		return
	}
	g.ex.features |= f
	stack[0] = uint64(g.ex.features)
}

func (h *Host) getConfig(ctx context.Context, mod api.Module, stack []uint64) {
	g := guestOf(ctx)
	g.startMemory(mod)
	buf, limit := uint32(stack[0]), uint32(stack[1])
	n := uint32(len(h.Config))
	if n <= limit && n > 0 {
		copy(g.view(abi.FuncGetConfig, buf, n), h.Config)
	}
	stack[0] = uint64(n)
}

func slogLevel(l abi.LogLevel) slog.Level {
	switch {
	case l <= abi.LogLevelDebug:
		return slog.LevelDebug
	case l == abi.LogLevelInfo:
		return slog.LevelInfo
	case l == abi.LogLevelWarn:
		return slog.LevelWarn
	}
	return slog.LevelError
}

func (h *Host) logEnabled(ctx context.Context, _ api.Module, stack []uint64) {
	l := abi.LogLevel(int32(uint32(stack[0])))
	on := h.Logger != nil && l < abi.LogLevelNone && h.Logger.Enabled(ctx, slogLevel(l))
	stack[0] = 0
	if on {
		stack[0] = 1
	}
}

func (h *Host) log(ctx context.Context, mod api.Module, stack []uint64) {
	l := abi.LogLevel(int32(uint32(stack[0])))
	if h.Logger == nil || l >= abi.LogLevelNone || !h.Logger.Enabled(ctx, slogLevel(l)) {
		return
	}
	g := guestOf(ctx)
	if h.LogAllow != nil {
		ok, dropped := h.LogAllow()
		if dropped > 0 {
			h.Logger.Warn("guest log messages over the rate limit were dropped", "messages", dropped, "isolate", g.ID)
		}
		if !ok {
			return
		}
	}
	g.startMemory(mod)
	msg := "(log message out of guest memory range)"
	if g.mem == nil {
		msg = "(log message from a module without memory)"
	} else if b, ok := g.mem.Read(uint32(stack[1]), uint32(stack[2])); ok {
		msg = logsafe.Escape(b, MaxLogMessage)
	}
	if w := g.ex.w; w != nil {
		// In a request: the line names it, as its answer does.
		if info := reqinfo.Of(w); info != nil && info.ID != "" {
			h.Logger.Log(ctx, slogLevel(l), msg, "isolate", g.ID, "request_id", info.ID)
			return
		}
	}
	h.Logger.Log(ctx, slogLevel(l), msg, "isolate", g.ID)
}

func getMethod(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	r := g.request(abi.FuncGetMethod)
	stack[0] = uint64(g.writeString(abi.FuncGetMethod, uint32(stack[0]), uint32(stack[1]), r.Method))
}

func setMethod(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	r := g.requestForWrite(abi.FuncSetMethod)
	m := g.view(abi.FuncSetMethod, uint32(stack[0]), uint32(stack[1]))
	if len(m) == 0 || !isToken(m) {
		g.trap(abi.FuncSetMethod, "invalid method %q", m)
	}
	r.Method = string(m)
}

func getURI(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	r := g.request(abi.FuncGetURI)
	buf, limit := uint32(stack[0]), uint32(stack[1])
	u := r.URL
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	n := uint32(len(path))
	if u.ForceQuery || u.RawQuery != "" {
		n += 1 + uint32(len(u.RawQuery))
	}
	if n <= limit {
		b := g.view(abi.FuncGetURI, buf, n)
		i := copy(b, path)
		if i < len(b) {
			b[i] = '?'
			copy(b[i+1:], u.RawQuery)
		}
	}
	stack[0] = uint64(n)
}

func setURI(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	r := g.requestForWrite(abi.FuncSetURI)
	v := string(g.view(abi.FuncSetURI, uint32(stack[0]), uint32(stack[1])))
	if v == "" {
		v = "/"
	}
	if err := setRequestURI(r, v); err != nil {
		g.trap(abi.FuncSetURI, "%v", err)
	}
}

func getProtocolVersion(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	r := g.request(abi.FuncGetProtocolVersion)
	stack[0] = uint64(g.writeString(abi.FuncGetProtocolVersion, uint32(stack[0]), uint32(stack[1]), protoString(r)))
}

func getSourceAddr(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	r := g.request(abi.FuncGetSourceAddr)
	stack[0] = uint64(g.writeString(abi.FuncGetSourceAddr, uint32(stack[0]), uint32(stack[1]), r.RemoteAddr))
}

func getStatusCode(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	g.request(abi.FuncGetStatusCode)
	stack[0] = uint64(g.ex.statusCode())
}

func setStatusCode(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	g.responseForWrite(abi.FuncSetStatusCode)
	code := int32(uint32(stack[0]))
	if code < 200 || code > 999 {
		g.trap(abi.FuncSetStatusCode, "invalid status code %d (want 200 to 999; informational responses are not supported)", code)
	}
	g.ex.status = int(code)
}
