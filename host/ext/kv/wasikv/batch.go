package wasikv

import (
	"context"
	"errors"

	"github.com/wasmserve/wasmserve/host/ext/kv"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// batchFuncs are get-many, set-many and delete-many: one operation of the
// store per key, in order, each counted and bounded as a single one, and
// the first failure ends the batch (the WIT promises no atomicity: what
// was done before it stays done).
func (v *version) batchFuncs() map[string]*component.HostFunc {
	keys := cabi.ListOf(cabi.StringType)
	pair := cabi.TupleOf(cabi.StringType, bytesType)
	bkt := param("bucket", borrow(v.bucket))
	return map[string]*component.HostFunc{
		"get-many": {
			Params:  []component.Param{bkt, param("keys", keys)},
			Results: []*cabi.Type{v.result(cabi.ListOf(cabi.OptionOf(pair)))},
			Call: func(ctx context.Context, a []any) ([]any, error) {
				b, list := a[0].(*bucket), a[1].([]any)
				out := make([]any, len(list))
				for i, k := range list {
					val, err := b.c.Get(ctx, k.(string))
					switch {
					case errors.Is(err, kv.ErrNotFound):
						out[i] = cabi.Option{}
					case err != nil:
						return one(fail(err))
					default:
						out[i] = cabi.Option{Some: true, Value: []any{k, val}}
					}
				}
				return one(ok(out))
			},
		},
		"set-many": {
			Params:  []component.Param{bkt, param("key-values", cabi.ListOf(pair))},
			Results: []*cabi.Type{v.result(nil)},
			Call: func(ctx context.Context, a []any) ([]any, error) {
				b := a[0].(*bucket)
				for _, item := range a[1].([]any) {
					p := item.([]any)
					if err := b.c.Set(ctx, p[0].(string), p[1].([]byte)); err != nil {
						return one(fail(err))
					}
				}
				return one(ok(nil))
			},
		},
		"delete-many": {
			Params:  []component.Param{bkt, param("keys", keys)},
			Results: []*cabi.Type{v.result(nil)},
			Call: func(ctx context.Context, a []any) ([]any, error) {
				b := a[0].(*bucket)
				for _, k := range a[1].([]any) {
					if _, err := b.c.Delete(ctx, k.(string)); err != nil {
						return one(fail(err))
					}
				}
				return one(ok(nil))
			},
		},
	}
}
