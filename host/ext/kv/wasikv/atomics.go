package wasikv

import (
	"context"
	"errors"

	"github.com/wasmserve/wasmserve/host/ext/kv"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// cas is what a cas handle (0.2.0-draft2) holds: a key of a bucket and
// the value it held when the handle was made, which swap compares with.
type cas struct {
	b      *bucket
	key    string
	old    []byte
	absent bool
}

// newCAS reads the current value of key into a cas.
func newCAS(ctx context.Context, b *bucket, key string) (*cas, error) {
	val, err := b.c.Get(ctx, key)
	switch {
	case errors.Is(err, kv.ErrNotFound):
		return &cas{b: b, key: key, absent: true}, nil
	case err != nil:
		return nil, err
	}
	return &cas{b: b, key: key, old: val}, nil
}

func (v *version) atomicsFuncs() map[string]*component.HostFunc {
	str := cabi.StringType
	funcs := map[string]*component.HostFunc{
		// increment: a counter is a signed 64-bit decimal integer in
		// every store (as Redis' INCRBY keeps it, and wasmserve_kv's
		// increment); 0.2.0-draft's u64 delta and sum are its
		// two's-complement bits.
		"increment": {
			Params:  []component.Param{param("bucket", borrow(v.bucket)), param("key", str), param("delta", v.counter)},
			Results: []*cabi.Type{v.result(v.counter)},
			Call: func(ctx context.Context, a []any) ([]any, error) {
				var delta int64
				if v.draft2 {
					delta = a[2].(int64)
				} else {
					delta = int64(a[2].(uint64))
				}
				n, err := a[0].(*bucket).c.Increment(ctx, a[1].(string), delta)
				switch {
				case err != nil:
					return one(fail(err))
				case v.draft2:
					return one(ok(n))
				}
				return one(ok(uint64(n)))
			},
		},
	}
	if !v.draft2 {
		return funcs
	}
	funcs["[static]cas.new"] = &component.HostFunc{
		Params:  []component.Param{param("bucket", borrow(v.bucket)), param("key", str)},
		Results: []*cabi.Type{v.result(own(v.cas))},
		Call: func(ctx context.Context, a []any) ([]any, error) {
			c, err := newCAS(ctx, a[0].(*bucket), a[1].(string))
			if err != nil {
				return one(fail(err))
			}
			return one(ok(c))
		},
	}
	funcs["[method]cas.current"] = &component.HostFunc{
		Params:  []component.Param{param("self", borrow(v.cas))},
		Results: []*cabi.Type{v.result(cabi.OptionOf(bytesType))},
		Call: func(_ context.Context, a []any) ([]any, error) {
			c := a[0].(*cas)
			if c.absent {
				return one(ok(cabi.Option{}))
			}
			return one(ok(cabi.Option{Some: true, Value: c.old}))
		},
	}
	funcs["swap"] = &component.HostFunc{
		Params:  []component.Param{param("cas", own(v.cas)), param("value", bytesType)},
		Results: []*cabi.Type{cabi.ResultOf(nil, v.casError)},
		Call: func(ctx context.Context, a []any) ([]any, error) {
			return one(swap(ctx, a[0].(*cas), a[1].([]byte)))
		},
	}
	return funcs
}

// swap sets c's key to value if it still holds what c read. When it does
// not, the error is cas-failed with a new cas of what it holds now.
func swap(ctx context.Context, c *cas, value []byte) cabi.Result {
	storeErr := func(err error) cabi.Result {
		return cabi.Result{Err: true, Value: cabi.Variant{Case: caseStoreError, Value: errValue(err)}}
	}
	swapped, err := c.b.c.CompareAndSwap(ctx, c.key, c.old, c.absent, value)
	switch {
	case err != nil:
		return storeErr(err)
	case swapped:
		return ok(nil)
	}
	now, err := newCAS(ctx, c.b, c.key)
	if err != nil {
		return storeErr(err)
	}
	return cabi.Result{Err: true, Value: cabi.Variant{Case: caseCASFailed, Value: now}}
}
