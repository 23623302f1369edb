package wasikv

import (
	"context"
	"errors"
	"fmt"

	"github.com/wasmserve/wasmserve/host/ext/kv"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// bucket is what a guest's bucket handle holds: the store it opened, and,
// in 0.2.0-draft, whose cursors are u64s, the cursors of list-keys it
// was given.
type bucket struct {
	c *kv.Client

	// cursors maps the u64 cursors handed out to the store's own
	// (0.2.0-draft only); the most recent maxCursors are kept.
	cursors    map[uint64]string
	nextCursor uint64
}

// maxCursors bounds the list-keys cursors of 0.2.0-draft a bucket
// remembers: a guest walking many listings at once, past this many pages
// behind, gets an error for the oldest.
const maxCursors = 64

// ok is the Go value of result<T, error> holding v.
func ok(v any) cabi.Result { return cabi.Result{Value: v} }

// fail is error::other with err's message.
func fail(err error) cabi.Result {
	return cabi.Result{Err: true, Value: errValue(err)}
}

// errValue is err as a value of the error variant: other(message).
func errValue(err error) cabi.Variant { return cabi.Variant{Case: caseOther, Value: err.Error()} }

// one wraps a single result.
func one(v any) ([]any, error) { return []any{v}, nil }

func (v *version) storeFuncs(e *kv.Extension) map[string]*component.HostFunc {
	str := cabi.StringType
	return map[string]*component.HostFunc{
		"open": {
			Params:  []component.Param{param("identifier", str)},
			Results: []*cabi.Type{v.result(own(v.bucket))},
			Call: func(_ context.Context, a []any) ([]any, error) {
				c, found := e.Client(a[0].(string))
				if !found {
					return one(cabi.Result{Err: true, Value: cabi.Variant{Case: caseNoSuchStore}})
				}
				return one(ok(&bucket{c: c}))
			},
		},
		"[method]bucket.get": {
			Params:  []component.Param{v.self(), param("key", str)},
			Results: []*cabi.Type{v.result(cabi.OptionOf(bytesType))},
			Call: func(ctx context.Context, a []any) ([]any, error) {
				val, err := a[0].(*bucket).c.Get(ctx, a[1].(string))
				switch {
				case errors.Is(err, kv.ErrNotFound):
					return one(ok(cabi.Option{}))
				case err != nil:
					return one(fail(err))
				}
				return one(ok(cabi.Option{Some: true, Value: val}))
			},
		},
		"[method]bucket.set": {
			Params:  []component.Param{v.self(), param("key", str), param("value", bytesType)},
			Results: []*cabi.Type{v.result(nil)},
			Call: func(ctx context.Context, a []any) ([]any, error) {
				if err := a[0].(*bucket).c.Set(ctx, a[1].(string), a[2].([]byte)); err != nil {
					return one(fail(err))
				}
				return one(ok(nil))
			},
		},
		"[method]bucket.delete": {
			Params:  []component.Param{v.self(), param("key", str)},
			Results: []*cabi.Type{v.result(nil)},
			Call: func(ctx context.Context, a []any) ([]any, error) {
				if _, err := a[0].(*bucket).c.Delete(ctx, a[1].(string)); err != nil {
					return one(fail(err))
				}
				return one(ok(nil))
			},
		},
		"[method]bucket.exists": {
			Params:  []component.Param{v.self(), param("key", str)},
			Results: []*cabi.Type{v.result(cabi.BoolType)},
			Call: func(ctx context.Context, a []any) ([]any, error) {
				yes, err := a[0].(*bucket).c.Exists(ctx, a[1].(string))
				if err != nil {
					return one(fail(err))
				}
				return one(ok(yes))
			},
		},
		"[method]bucket.list-keys": {
			Params:  []component.Param{v.self(), param("cursor", v.cursor)},
			Results: []*cabi.Type{v.result(v.keyResponse)},
			Call: func(ctx context.Context, a []any) ([]any, error) {
				return one(v.listKeys(ctx, a[0].(*bucket), a[1].(cabi.Option)))
			},
		},
	}
}

// listKeys answers list-keys: a page of the store's keys from cursor.
func (v *version) listKeys(ctx context.Context, b *bucket, cursor cabi.Option) cabi.Result {
	from := ""
	if cursor.Some {
		if v.draft2 {
			from = cursor.Value.(string)
		} else {
			n := cursor.Value.(uint64)
			s, found := b.cursors[n]
			if !found {
				return fail(fmt.Errorf("store %q: list-keys: cursor %d is not one this bucket returned, or one of more than %d pages ago", b.c.Name(), n, maxCursors))
			}
			from = s
		}
	}
	keys, next, err := b.c.Keys(ctx, from)
	if err != nil {
		return fail(err)
	}
	list := make([]any, len(keys))
	for i, k := range keys {
		list[i] = k
	}
	var nextOpt cabi.Option
	switch {
	case next == "":
	case v.draft2:
		nextOpt = cabi.Option{Some: true, Value: next}
	default:
		nextOpt = cabi.Option{Some: true, Value: b.cursor(next)}
	}
	return ok([]any{list, nextOpt})
}

// cursor returns the u64 cursor standing for the store's cursor s,
// forgetting the oldest one kept past maxCursors.
func (b *bucket) cursor(s string) uint64 {
	if b.cursors == nil {
		b.cursors = map[uint64]string{}
	}
	b.nextCursor++
	b.cursors[b.nextCursor] = s
	if b.nextCursor > maxCursors {
		delete(b.cursors, b.nextCursor-maxCursors)
	}
	return b.nextCursor
}

// checkFunc checks the types of a host function.
func checkFunc(f *component.HostFunc) error {
	for _, p := range f.Params {
		if err := p.Type.Check(); err != nil {
			return fmt.Errorf("parameter %s: %w", p.Name, err)
		}
	}
	for _, r := range f.Results {
		if err := r.Check(); err != nil {
			return fmt.Errorf("result: %w", err)
		}
	}
	return nil
}

// fmtErr names a function of inst in err.
func fmtErr(inst *component.HostInstance, name string, err error) error {
	return fmt.Errorf("defining %s@%s#%s: %w", inst.Name, inst.Version, name, err)
}
