package kv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/wasmserve/wasmserve/abi"
	contract "github.com/wasmserve/wasmserve/abi/kv"
	"github.com/wasmserve/wasmserve/internal/hostmodule"
)

// Install defines the wasmserve_kv host module in r: every function of the
// contract's table (package abi/kv).
func (e *Extension) Install(ctx context.Context, r wazero.Runtime) error {
	return hostmodule.Define(ctx, r, contract.ModuleName, contract.Functions, e.functions())
}

// functions maps the name of every host function of wasmserve_kv to its
// implementation. hostmodule.Define checks it against the contract's table.
func (e *Extension) functions() map[string]api.GoModuleFunc {
	return map[string]api.GoModuleFunc{
		contract.FuncOpen:           e.open,
		contract.FuncGet:            e.get,
		contract.FuncSet:            e.set,
		contract.FuncDelete:         e.delete,
		contract.FuncExists:         e.exists,
		contract.FuncKeys:           e.keys,
		contract.FuncIncrement:      e.increment,
		contract.FuncCompareAndSwap: e.compareAndSwap,
		contract.FuncGetError:       e.getError,
	}
}

// state is the extension's state of one isolate: the request in flight
// and what its last calls left. It is used by one request at a time, like
// its isolate.
type state struct {
	e   *Extension
	id  string
	mod api.Module

	active   bool
	parent   context.Context
	deadline time.Time
	lastErr  string

	// kept is the value, or page of keys, a get or keys found too large
	// for the guest's buffer, for the same call to take again.
	kept     []byte
	keptCall string // which call: the function, store, key or prefix and cursor
	keptN    uint32 // keys: the count
}

// stateKey carries an isolate's state in the context it is instantiated
// with, for the calls of its start function, which run before Bind.
type stateKey struct{}

// context returns a context derived from parent to instantiate the
// isolate's module with: the start function's calls find st in it, and it
// forgets the module when the module is closed.
func (st *state) context(parent context.Context) context.Context {
	ctx := context.WithValue(parent, stateKey{}, st)
	return experimental.WithCloseNotifier(ctx, experimental.CloseNotifyFunc(func(context.Context, uint32) {
		if st.mod != nil {
			st.e.mods.Delete(st.mod)
		}
	}))
}

// stateOf returns the state of the calling isolate: bound to mod, or, in
// its start function, in ctx. Nil when there is none.
func (e *Extension) stateOf(ctx context.Context, mod api.Module) *state {
	if v, ok := e.mods.Load(mod); ok {
		return v.(*state)
	}
	st, _ := ctx.Value(stateKey{}).(*state)
	return st
}

// Bind makes the host functions called by mod find st.
func (st *state) Bind(mod api.Module) error {
	st.mod = mod
	st.e.mods.Store(mod, st)
	if mod.IsClosed() {
		st.e.mods.Delete(mod)
	}
	return nil
}

// Begin starts a request: until End, the guest may use its stores, until
// deadline (zero: none but the Redis timeout) and while ctx lasts.
func (st *state) Begin(ctx context.Context, deadline time.Time) {
	st.active, st.parent, st.deadline = true, ctx, deadline
}

// End ends the request and drops what it kept.
func (st *state) End() {
	st.active, st.parent, st.lastErr = false, nil, ""
	st.forget()
}

func (st *state) forget() { st.kept, st.keptCall, st.keptN = nil, "", 0 }

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

// i32Result is c as an i32 result on wazero's stack; i64Result as an i64.
func i32Result(c contract.Code) uint64 { return uint64(uint32(c)) }
func i64Result(c contract.Code) uint64 { return uint64(int64(c)) }

// call is one host function call of a request on a store.
type call struct {
	st *state
	s  *store
	fn string
}

// beginKey is begin, then the key of a (store, key, key_len, ...) call
// read from the guest.
func (e *Extension) beginKey(mod api.Module, fn string, stack []uint64) (c call, key string, code contract.Code, ok bool) {
	if c, code, ok = e.begin(mod, fn, uint32(stack[0])); !ok {
		return c, "", code, false
	}
	key, code, ok = c.key(mod, uint32(stack[1]), uint32(stack[2]))
	return c, key, code, ok
}

// begin finds the calling isolate's request and the store handle h for fn.
// When there is none it returns ok false with the code to return.
func (e *Extension) begin(mod api.Module, fn string, h uint32) (c call, code contract.Code, ok bool) {
	v, _ := e.mods.Load(mod)
	st, _ := v.(*state)
	if st == nil || !st.active {
		return c, contract.CodeNoRequest, false
	}
	c = call{st: st, fn: fn}
	if h == 0 || uint64(h) > uint64(len(e.stores)) {
		return c, c.fail(contract.CodeHandle, "%s: no store has handle %d", fn, h), false
	}
	c.s = e.stores[h-1]
	if fn != contract.FuncGet && fn != contract.FuncKeys {
		st.forget()
	}
	return c, 0, true
}

// fail records why the call failed, for get_error, counts it, and returns
// its code.
func (c call) fail(code contract.Code, format string, args ...any) contract.Code {
	c.st.lastErr = fmt.Sprintf(format, args...)
	if c.s != nil {
		c.s.m.result(c.fn, code)
	}
	return code
}

// key reads and checks a key; a bad key fails the call.
func (c call) key(mod api.Module, ptr, n uint32) (string, contract.Code, bool) {
	k := view(mod, c.fn, ptr, n)
	if why := contract.ValidKey(k); why != "" {
		return "", c.fail(contract.CodeInvalid, "store %q: %s: %s", c.s.name, c.fn, why), false
	}
	return string(k), 0, true
}

// ctx returns the context of one operation on the store: the request's,
// and for a Redis store the request's deadline when it comes before the
// extension's timeout (which bounds every network wait of the store
// already: Options.Timeout).
func (c call) ctx() (context.Context, context.CancelFunc) {
	if !c.s.remote || c.st.deadline.IsZero() || time.Until(c.st.deadline) >= c.st.e.timeout {
		return c.st.parent, func() {}
	}
	return context.WithDeadline(c.st.parent, c.st.deadline)
}

// do runs op on the store, timed and counted; a failure is recorded.
func (c call) do(key string, op func(ctx context.Context) error) (contract.Code, bool) {
	ctx, cancel := c.ctx()
	start := time.Now()
	err := op(ctx)
	cancel()
	c.s.m.observe(c.fn, time.Since(start))
	if err != nil {
		code := codeOf(err)
		if code == contract.CodeNotFound {
			c.s.m.result(c.fn, code)
			return code, false
		}
		return c.fail(code, "store %q: %s %q: %v", c.s.name, c.fn, key, err), false
	}
	c.s.m.result(c.fn, 0)
	return 0, true
}

// codeOf maps a store's error to the code of the host function.
func codeOf(err error) contract.Code {
	switch {
	case errors.Is(err, ErrNotFound):
		return contract.CodeNotFound
	case errors.Is(err, ErrQuota):
		return contract.CodeQuota
	case errors.Is(err, ErrNotNumber):
		return contract.CodeNotNumber
	case errors.Is(err, errInvalidCursor):
		return contract.CodeInvalid
	case errors.Is(err, context.Canceled), isTimeout(err):
		return contract.CodeTimeout
	}
	return contract.CodeUnavailable
}

// open(name, name_len) -> handle or code. It works from a start function
// too: a store's handle is the same in every isolate.
func (e *Extension) open(ctx context.Context, mod api.Module, stack []uint64) {
	name := view(mod, contract.FuncOpen, uint32(stack[0]), uint32(stack[1]))
	if h, ok := e.byName[string(name)]; ok {
		stack[0] = uint64(uint32(h))
		return
	}
	if st := e.stateOf(ctx, mod); st != nil {
		st.lastErr = fmt.Sprintf("open: no store named %q is configured (--kv-store NAME=URL)", name)
	}
	stack[0] = i32Result(contract.CodeNoStore)
}

// get(store, key, key_len, buf, buf_limit) -> value length or code.
func (e *Extension) get(_ context.Context, mod api.Module, stack []uint64) {
	buf, limit := uint32(stack[3]), uint32(stack[4])
	c, key, code, ok := e.beginKey(mod, contract.FuncGet, stack)
	if !ok {
		stack[0] = i64Result(code)
		return
	}
	id := c.s.name + "\x00" + key
	var value []byte
	if c.st.keptCall == contract.FuncGet+"\x00"+id {
		value = c.st.kept // counted when it was read
	} else {
		code, ok := c.do(key, func(ctx context.Context) (err error) {
			value, err = c.s.s.Get(ctx, key)
			return err
		})
		if !ok {
			c.st.forget()
			stack[0] = i64Result(code)
			return
		}
	}
	c.st.forget()
	n := uint32(len(value))
	if n > limit {
		c.st.kept, c.st.keptCall = value, contract.FuncGet+"\x00"+id
	} else {
		copy(view(mod, c.fn, buf, n), value)
		c.s.m.read.Add(float64(n))
	}
	stack[0] = uint64(n)
}

// set(store, key, key_len, value, value_len, ttl_ms) -> 0 or code.
func (e *Extension) set(_ context.Context, mod api.Module, stack []uint64) {
	vptr, vlen, ttl := uint32(stack[3]), uint32(stack[4]), int64(stack[5])
	c, key, code, ok := e.beginKey(mod, contract.FuncSet, stack)
	if !ok {
		stack[0] = i32Result(code)
		return
	}
	value := view(mod, c.fn, vptr, vlen)
	switch {
	case int64(vlen) > e.maxValue:
		stack[0] = i32Result(c.fail(contract.CodeTooBig, "store %q: set %q: a value of %d bytes, over the largest, %d", c.s.name, key, vlen, e.maxValue))
		return
	case ttl < 0:
		stack[0] = i32Result(c.fail(contract.CodeInvalid, "store %q: set %q: negative TTL %d ms", c.s.name, key, ttl))
		return
	}
	code, _ = c.do(key, func(ctx context.Context) error {
		return c.s.s.Set(ctx, key, value, time.Duration(ttl)*time.Millisecond)
	})
	if code == 0 {
		c.s.m.written.Add(float64(vlen))
	}
	stack[0] = i32Result(code)
}

// delete(store, key, key_len) -> 1 deleted, 0 absent, or code.
func (e *Extension) delete(_ context.Context, mod api.Module, stack []uint64) {
	e.boolOp(mod, stack, contract.FuncDelete, func(s Store) func(context.Context, string) (bool, error) { return s.Delete })
}

// exists(store, key, key_len) -> 1, 0 or code.
func (e *Extension) exists(_ context.Context, mod api.Module, stack []uint64) {
	e.boolOp(mod, stack, contract.FuncExists, func(s Store) func(context.Context, string) (bool, error) { return s.Exists })
}

// boolOp runs delete or exists.
func (e *Extension) boolOp(mod api.Module, stack []uint64, fn string, method func(Store) func(context.Context, string) (bool, error)) {
	c, key, code, ok := e.beginKey(mod, fn, stack)
	if !ok {
		stack[0] = i32Result(code)
		return
	}
	var yes bool
	code, ok = c.do(key, func(ctx context.Context) (err error) {
		yes, err = method(c.s.s)(ctx, key)
		return err
	})
	switch {
	case !ok:
		stack[0] = i32Result(code)
	case yes:
		stack[0] = 1
	default:
		stack[0] = 0
	}
}

// keys(store, prefix, prefix_len, cursor, cursor_len, buf, buf_limit) ->
// count<<32|len or code. The page is the next cursor and the keys, each
// followed by a NUL.
func (e *Extension) keys(_ context.Context, mod api.Module, stack []uint64) {
	buf, limit := uint32(stack[5]), uint32(stack[6])
	c, code, ok := e.begin(mod, contract.FuncKeys, uint32(stack[0]))
	if !ok {
		stack[0] = i64Result(code)
		return
	}
	prefix := string(view(mod, c.fn, uint32(stack[1]), uint32(stack[2])))
	cursor := string(view(mod, c.fn, uint32(stack[3]), uint32(stack[4])))
	for _, p := range []struct{ what, s string }{{"prefix", prefix}, {"cursor", cursor}} {
		if len(p.s) > contract.MaxKeyLen || !utf8.ValidString(p.s) || containsNUL(p.s) {
			stack[0] = i64Result(c.fail(contract.CodeInvalid, "store %q: keys: invalid %s %q", c.s.name, p.what, p.s))
			return
		}
	}
	id := contract.FuncKeys + "\x00" + c.s.name + "\x00" + prefix + "\x00" + cursor
	var page []byte
	var count uint32
	if c.st.keptCall == id {
		page, count = c.st.kept, c.st.keptN // counted when it was read
	} else {
		var keys []string
		var next string
		code, ok := c.do(prefix, func(ctx context.Context) (err error) {
			keys, next, err = c.s.s.Keys(ctx, prefix, cursor, contract.PageSize)
			return err
		})
		if !ok {
			c.st.forget()
			stack[0] = i64Result(code)
			return
		}
		page = append(append(page, next...), 0)
		for _, k := range keys {
			page = append(append(page, k...), 0)
		}
		count = uint32(len(keys))
	}
	c.st.forget()
	n := uint32(len(page))
	if n > limit {
		c.st.kept, c.st.keptCall, c.st.keptN = page, id, count
	} else {
		copy(view(mod, c.fn, buf, n), page)
	}
	stack[0] = abi.EncodeCountLen(count, n)
}

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// increment(store, key, key_len, delta, result_ptr) -> 0 or code; the sum
// is written at result_ptr, 8 bytes little-endian.
func (e *Extension) increment(_ context.Context, mod api.Module, stack []uint64) {
	delta, rptr := int64(stack[3]), uint32(stack[4])
	c, key, code, ok := e.beginKey(mod, contract.FuncIncrement, stack)
	if !ok {
		stack[0] = i32Result(code)
		return
	}
	out := view(mod, c.fn, rptr, 8)
	var n int64
	code, ok = c.do(key, func(ctx context.Context) (err error) {
		n, err = c.s.s.Increment(ctx, key, delta)
		return err
	})
	if ok {
		binary.LittleEndian.PutUint64(out, uint64(n))
	}
	stack[0] = i32Result(code)
}

// compare_and_swap(store, key, key_len, old, old_len, new, new_len, flags)
// -> 1 swapped, 0 not, or code.
func (e *Extension) compareAndSwap(_ context.Context, mod api.Module, stack []uint64) {
	flags := contract.Flags(uint32(stack[7]))
	c, key, code, ok := e.beginKey(mod, contract.FuncCompareAndSwap, stack)
	if !ok {
		stack[0] = i32Result(code)
		return
	}
	absent := flags&contract.FlagOldAbsent != 0
	var old []byte
	if !absent {
		old = view(mod, c.fn, uint32(stack[3]), uint32(stack[4]))
	}
	value := view(mod, c.fn, uint32(stack[5]), uint32(stack[6]))
	switch {
	case flags&^contract.FlagOldAbsent != 0:
		stack[0] = i32Result(c.fail(contract.CodeInvalid, "store %q: compare_and_swap %q: unknown flags %#x", c.s.name, key, uint32(flags&^contract.FlagOldAbsent)))
		return
	case int64(len(value)) > e.maxValue:
		stack[0] = i32Result(c.fail(contract.CodeTooBig, "store %q: compare_and_swap %q: a value of %d bytes, over the largest, %d", c.s.name, key, len(value), e.maxValue))
		return
	}
	var swapped bool
	code, ok = c.do(key, func(ctx context.Context) (err error) {
		swapped, err = c.s.s.CompareAndSwap(ctx, key, old, absent, value)
		return err
	})
	switch {
	case !ok:
		stack[0] = i32Result(code)
	case swapped:
		c.s.m.written.Add(float64(len(value)))
		stack[0] = 1
	default:
		stack[0] = 0
	}
}

// get_error(buf, buf_limit) -> the length of the last error's message,
// written when it fits.
func (e *Extension) getError(ctx context.Context, mod api.Module, stack []uint64) {
	buf, limit := uint32(stack[0]), uint32(stack[1])
	msg := ""
	if st := e.stateOf(ctx, mod); st != nil {
		msg = st.lastErr
	}
	n := uint32(len(msg))
	if n <= limit {
		copy(view(mod, contract.FuncGetError, buf, n), msg)
	}
	stack[0] = uint64(n)
}
