package kv

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	contract "github.com/wasmserve/wasmserve/abi/kv"
)

// Client is one configured store as a host interface other than
// wasmserve_kv reaches it (wasi:keyvalue, for components): every operation
// obeys the limits core guests do (keys of 1 to 255 bytes of UTF-8 without
// NUL, the largest value, the quota of keys), runs within its ctx (the
// request's deadline, and for a Redis store the extension's timeout), and
// counts in the same metrics, under the store's name. A Client is safe for
// concurrent use.
type Client struct {
	e *Extension
	s *store
}

// Client returns the store configured under name, or false when none is:
// a host never gives a guest a store it was not given.
func (e *Extension) Client(name string) (*Client, bool) {
	if e == nil {
		return nil, false
	}
	h, ok := e.byName[name]
	if !ok {
		return nil, false
	}
	return &Client{e: e, s: e.stores[h-1]}, true
}

// Name is the store's configured name.
func (c *Client) Name() string { return c.s.name }

// Error is the error of a Client's operation: its code, as wasmserve_kv
// would return it, and a message naming the store, the operation and the
// key, as get_error tells it to a core guest.
type Error struct {
	// Code says why the operation failed.
	Code contract.Code
	// Msg is the message: `store "default": increment "count": value
	// is not a decimal 64-bit integer`.
	Msg string
	err error
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the store's error, if any: errors.Is(err, ErrQuota).
func (e *Error) Unwrap() error { return e.err }

// fail counts a failure of op and returns it.
func (c *Client) fail(op string, code contract.Code, err error, format string, args ...any) error {
	c.s.m.result(op, code)
	return &Error{Code: code, Msg: fmt.Sprintf("store %q: ", c.s.name) + fmt.Sprintf(format, args...), err: err}
}

// checkKey checks key for op.
func (c *Client) checkKey(op, key string) error {
	if why := contract.ValidKey([]byte(key)); why != "" {
		return c.fail(op, contract.CodeInvalid, nil, "%s: %s", op, why)
	}
	return nil
}

// checkValue checks the size of a value for op.
func (c *Client) checkValue(op, key string, value []byte) error {
	if int64(len(value)) > c.e.maxValue {
		return c.fail(op, contract.CodeTooBig, nil, "%s %q: a value of %d bytes, over the largest, %d", op, key, len(value), c.e.maxValue)
	}
	return nil
}

// do runs fn on the store, timed and counted; ErrNotFound is counted as
// not_found and returned unwrapped.
func (c *Client) do(ctx context.Context, op, key string, fn func(ctx context.Context) error) error {
	start := time.Now()
	err := fn(ctx)
	c.s.m.observe(op, time.Since(start))
	switch {
	case err == nil:
		c.s.m.result(op, 0)
		return nil
	case errors.Is(err, ErrNotFound):
		c.s.m.result(op, contract.CodeNotFound)
		return ErrNotFound
	}
	return c.fail(op, codeOf(err), err, "%s %q: %v", op, key, err)
}

// Get returns the value of key; ErrNotFound when it holds none.
func (c *Client) Get(ctx context.Context, key string) ([]byte, error) {
	if err := c.checkKey(contract.FuncGet, key); err != nil {
		return nil, err
	}
	var v []byte
	err := c.do(ctx, contract.FuncGet, key, func(ctx context.Context) (err error) {
		v, err = c.s.s.Get(ctx, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.s.m.read.Add(float64(len(v)))
	return v, nil
}

// Set stores value under key, without expiry.
func (c *Client) Set(ctx context.Context, key string, value []byte) error {
	if err := c.checkKey(contract.FuncSet, key); err != nil {
		return err
	}
	if err := c.checkValue(contract.FuncSet, key, value); err != nil {
		return err
	}
	err := c.do(ctx, contract.FuncSet, key, func(ctx context.Context) error {
		return c.s.s.Set(ctx, key, value, 0)
	})
	if err == nil {
		c.s.m.written.Add(float64(len(value)))
	}
	return err
}

// Delete removes key and says whether it was there.
func (c *Client) Delete(ctx context.Context, key string) (bool, error) {
	return c.boolOp(ctx, contract.FuncDelete, key, c.s.s.Delete)
}

// Exists says whether key holds a value.
func (c *Client) Exists(ctx context.Context, key string) (bool, error) {
	return c.boolOp(ctx, contract.FuncExists, key, c.s.s.Exists)
}

func (c *Client) boolOp(ctx context.Context, op, key string, fn func(context.Context, string) (bool, error)) (bool, error) {
	if err := c.checkKey(op, key); err != nil {
		return false, err
	}
	var yes bool
	err := c.do(ctx, op, key, func(ctx context.Context) (err error) {
		yes, err = fn(ctx, key)
		return err
	})
	return yes, err
}

// Keys returns a page of up to contract.PageSize keys from cursor ("" the
// first page) and the cursor of the next page, "" once the listing is done
// (see docs/kv.md for the order on each kind of store).
func (c *Client) Keys(ctx context.Context, cursor string) (keys []string, next string, err error) {
	if len(cursor) > contract.MaxKeyLen || !utf8.ValidString(cursor) || containsNUL(cursor) {
		return nil, "", c.fail(contract.FuncKeys, contract.CodeInvalid, nil, "keys: invalid cursor %q", cursor)
	}
	err = c.do(ctx, contract.FuncKeys, "", func(ctx context.Context) (err error) {
		keys, next, err = c.s.s.Keys(ctx, "", cursor, contract.PageSize)
		return err
	})
	return keys, next, err
}

// Increment adds delta to the decimal integer under key (0 when absent),
// atomically, and returns the sum.
func (c *Client) Increment(ctx context.Context, key string, delta int64) (int64, error) {
	if err := c.checkKey(contract.FuncIncrement, key); err != nil {
		return 0, err
	}
	var n int64
	err := c.do(ctx, contract.FuncIncrement, key, func(ctx context.Context) (err error) {
		n, err = c.s.s.Increment(ctx, key, delta)
		return err
	})
	return n, err
}

// CompareAndSwap sets key to value if it holds old (when absent is true,
// if it is absent), atomically, and says whether it did.
func (c *Client) CompareAndSwap(ctx context.Context, key string, old []byte, absent bool, value []byte) (bool, error) {
	op := contract.FuncCompareAndSwap
	if err := c.checkKey(op, key); err != nil {
		return false, err
	}
	if err := c.checkValue(op, key, value); err != nil {
		return false, err
	}
	var swapped bool
	err := c.do(ctx, op, key, func(ctx context.Context) (err error) {
		swapped, err = c.s.s.CompareAndSwap(ctx, key, old, absent, value)
		return err
	})
	if swapped {
		c.s.m.written.Add(float64(len(value)))
	}
	return swapped, err
}
