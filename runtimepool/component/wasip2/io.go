package wasip2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// StreamErrorType is wasi:io/streams' stream-error: last-operation-failed
// carrying an error resource, or closed.
var StreamErrorType = variantType("stream-error",
	cabi.Case{Name: "last-operation-failed", Type: &cabi.Type{Kind: cabi.KindOwn, Resource: ErrorType}},
	cabi.Case{Name: "closed"},
)

// ioNames are the names wasi:io's signatures use.
var ioNames = names{
	"pollable":      PollableType,
	"input-stream":  InputStreamType,
	"output-stream": OutputStreamType,
	"error":         ErrorType,
	"stream-error":  StreamErrorType,
}

// StreamError returns the stream-error result of err: closed for io.EOF,
// last-operation-failed with err as the error resource otherwise.
func StreamError(err error) cabi.Result {
	if errors.Is(err, io.EOF) {
		return cabi.Result{Err: true, Value: cabi.Variant{Case: 1}}
	}
	return cabi.Result{Err: true, Value: cabi.Variant{Case: 0, Value: err}}
}

// Wait blocks until p is ready or ctx is done; then it returns an error
// wrapping ctx.Err().
func Wait(ctx context.Context, p Pollable) error {
	for !p.Ready() {
		ch := p.Wait()
		if ch == nil {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting on a pollable: %w", context.Cause(ctx))
		}
	}
	return nil
}

// Poll blocks until at least one of ps is ready, or ctx is done, and
// returns the indices of those ready. An empty ps is an error, as the
// specification says poll traps then.
func Poll(ctx context.Context, ps []Pollable) ([]uint32, error) {
	if len(ps) == 0 {
		return nil, errors.New("poll of an empty list")
	}
	if len(ps) == 1 {
		if err := Wait(ctx, ps[0]); err != nil {
			return nil, err
		}
		return []uint32{0}, nil
	}
	for {
		var ready []uint32
		for i, p := range ps {
			if p.Ready() {
				ready = append(ready, uint32(i))
			}
		}
		if len(ready) > 0 {
			return ready, nil
		}
		cases := make([]reflect.SelectCase, 0, len(ps)+1)
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
		always := false
		for _, p := range ps {
			ch := p.Wait()
			if ch == nil {
				always = true
				break
			}
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		if always {
			continue
		}
		if k, _, _ := reflect.Select(cases); k == 0 {
			return nil, fmt.Errorf("waiting on %d pollables: %w", len(ps), context.Cause(ctx))
		}
	}
}

// closeIfCloser is the drop of pollables and streams: Close, for a value
// that has it.
func closeIfCloser(v any) {
	if c, ok := v.(interface{ Close() }); ok {
		c.Close()
	}
}

func defineIO(h *component.Host, _ *Config) error {
	ns := ioNames
	errInst := &component.HostInstance{
		Name: "wasi:io/error", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"[method]error.to-debug-string": ns.method(ErrorType, "func() -> string", func(_ context.Context, args []any) ([]any, error) {
				err, _ := args[0].(error)
				if err == nil {
					return []any{"unknown error"}, nil
				}
				return []any{err.Error()}, nil
			}),
		},
		Resources: map[string]*component.HostResource{"error": {Type: ErrorType}},
	}
	pollInst := &component.HostInstance{
		Name: "wasi:io/poll", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"[method]pollable.ready": ns.method(PollableType, "func() -> bool", func(_ context.Context, args []any) ([]any, error) {
				return []any{args[0].(Pollable).Ready()}, nil
			}),
			"[method]pollable.block": ns.method(PollableType, "func()", func(ctx context.Context, args []any) ([]any, error) {
				return nil, Wait(ctx, args[0].(Pollable))
			}),
			"poll": ns.fn("func(in: list<borrow<pollable>>) -> list<u32>", func(ctx context.Context, args []any) ([]any, error) {
				list := args[0].([]any)
				ps := make([]Pollable, len(list))
				for i, v := range list {
					ps[i] = v.(Pollable)
				}
				ready, err := Poll(ctx, ps)
				if err != nil {
					return nil, err
				}
				out := make([]any, len(ready))
				for i, k := range ready {
					out[i] = k
				}
				return []any{out}, nil
			}),
		},
		Resources: map[string]*component.HostResource{"pollable": {Type: PollableType, Drop: closeIfCloser}},
	}
	in := func(sig string, call func(ctx context.Context, s InputStream, args []any) (any, error)) *component.HostFunc {
		return ns.method(InputStreamType, sig, func(ctx context.Context, args []any) ([]any, error) {
			r, err := call(ctx, args[0].(InputStream), args[1:])
			return []any{r}, err
		})
	}
	out := func(sig string, call func(ctx context.Context, s OutputStream, args []any) (any, error)) *component.HostFunc {
		return ns.method(OutputStreamType, sig, func(ctx context.Context, args []any) ([]any, error) {
			r, err := call(ctx, args[0].(OutputStream), args[1:])
			return []any{r}, err
		})
	}
	streamsInst := &component.HostInstance{
		Name: "wasi:io/streams", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"[method]input-stream.read": in("func(len: u64) -> result<list<u8>, stream-error>", func(_ context.Context, s InputStream, a []any) (any, error) {
				return readResult(s.Read(a[0].(uint64)))
			}),
			"[method]input-stream.blocking-read": in("func(len: u64) -> result<list<u8>, stream-error>", func(ctx context.Context, s InputStream, a []any) (any, error) {
				return readResult(blockingRead(ctx, s, a[0].(uint64)))
			}),
			"[method]input-stream.skip": in("func(len: u64) -> result<u64, stream-error>", func(_ context.Context, s InputStream, a []any) (any, error) {
				return skipResult(s.Read(min(a[0].(uint64), skipChunk)))
			}),
			"[method]input-stream.blocking-skip": in("func(len: u64) -> result<u64, stream-error>", func(ctx context.Context, s InputStream, a []any) (any, error) {
				return skipResult(blockingRead(ctx, s, min(a[0].(uint64), skipChunk)))
			}),
			"[method]input-stream.subscribe": in("func() -> pollable", func(_ context.Context, s InputStream, _ []any) (any, error) {
				return s.Subscribe(), nil
			}),
			"[method]output-stream.check-write": out("func() -> result<u64, stream-error>", func(_ context.Context, s OutputStream, _ []any) (any, error) {
				n, err := s.CheckWrite()
				if err != nil {
					return StreamError(err), nil
				}
				return cabi.Result{Value: n}, nil
			}),
			"[method]output-stream.write": out("func(contents: list<u8>) -> result<_, stream-error>", func(_ context.Context, s OutputStream, a []any) (any, error) {
				return unitResult(s.Write(a[0].([]byte))), nil
			}),
			"[method]output-stream.blocking-write-and-flush": out("func(contents: list<u8>) -> result<_, stream-error>", func(ctx context.Context, s OutputStream, a []any) (any, error) {
				return blockingWriteAndFlush(ctx, s, a[0].([]byte), 0)
			}),
			"[method]output-stream.flush": out("func() -> result<_, stream-error>", func(_ context.Context, s OutputStream, _ []any) (any, error) {
				return unitResult(s.Flush()), nil
			}),
			"[method]output-stream.blocking-flush": out("func() -> result<_, stream-error>", func(ctx context.Context, s OutputStream, _ []any) (any, error) {
				return blockingWriteAndFlush(ctx, s, nil, 0)
			}),
			"[method]output-stream.subscribe": out("func() -> pollable", func(_ context.Context, s OutputStream, _ []any) (any, error) {
				return s.Subscribe(), nil
			}),
			"[method]output-stream.write-zeroes": out("func(len: u64) -> result<_, stream-error>", func(_ context.Context, s OutputStream, a []any) (any, error) {
				n := a[0].(uint64)
				permit, err := s.CheckWrite()
				if err != nil {
					return StreamError(err), nil
				}
				if n > permit {
					return nil, fmt.Errorf("write-zeroes of %d bytes where check-write allows %d", n, permit)
				}
				return unitResult(s.Write(make([]byte, n))), nil
			}),
			"[method]output-stream.blocking-write-zeroes-and-flush": out("func(len: u64) -> result<_, stream-error>", func(ctx context.Context, s OutputStream, a []any) (any, error) {
				return blockingWriteAndFlush(ctx, s, nil, a[0].(uint64))
			}),
			"[method]output-stream.splice": out("func(src: borrow<input-stream>, len: u64) -> result<u64, stream-error>", func(_ context.Context, s OutputStream, a []any) (any, error) {
				return splice(s, a[0].(InputStream), a[1].(uint64))
			}),
			"[method]output-stream.blocking-splice": out("func(src: borrow<input-stream>, len: u64) -> result<u64, stream-error>", func(ctx context.Context, s OutputStream, a []any) (any, error) {
				return blockingSplice(ctx, s, a[0].(InputStream), a[1].(uint64))
			}),
		},
		Resources: map[string]*component.HostResource{
			"input-stream":  {Type: InputStreamType, Drop: closeIfCloser},
			"output-stream": {Type: OutputStreamType, Drop: closeIfCloser},
		},
	}
	for _, inst := range []*component.HostInstance{errInst, pollInst, streamsInst} {
		if err := h.Define(inst); err != nil {
			return err
		}
	}
	return nil
}

// skipChunk bounds what one skip reads and discards.
const skipChunk = 64 << 10

func readResult(b []byte, err error) (any, error) {
	if t := (*trap)(nil); errors.As(err, &t) {
		return nil, t.err
	}
	if len(b) == 0 && err != nil {
		return StreamError(err), nil
	}
	if b == nil {
		b = []byte{}
	}
	return cabi.Result{Value: b}, nil
}

func skipResult(b []byte, err error) (any, error) {
	if t := (*trap)(nil); errors.As(err, &t) {
		return nil, t.err
	}
	if len(b) == 0 && err != nil {
		return StreamError(err), nil
	}
	return cabi.Result{Value: uint64(len(b))}, nil
}

func unitResult(err error) cabi.Result {
	if err != nil {
		return StreamError(err)
	}
	return cabi.Result{}
}

// blockingRead reads at least one byte (unless n is 0), waiting for them.
func blockingRead(ctx context.Context, s InputStream, n uint64) ([]byte, error) {
	for {
		b, err := s.Read(n)
		if len(b) > 0 || err != nil || n == 0 {
			return b, err
		}
		if err := Wait(ctx, s.Subscribe()); err != nil {
			return nil, &trap{err}
		}
	}
}

// trap marks an error that must trap the guest rather than be returned
// to it as a stream error.
type trap struct{ err error }

func (t *trap) Error() string { return t.err.Error() }
func (t *trap) Unwrap() error { return t.err }

// waitWritable waits until s accepts bytes, returning how many, or its
// error as a stream error.
func waitWritable(ctx context.Context, s OutputStream) (uint64, *cabi.Result, error) {
	for {
		n, err := s.CheckWrite()
		if err != nil {
			r := StreamError(err)
			return 0, &r, nil
		}
		if n > 0 {
			return n, nil, nil
		}
		if err := Wait(ctx, s.Subscribe()); err != nil {
			return 0, nil, err
		}
	}
}

// blockingWriteAndFlush writes p (or zeroes bytes of zeros), waiting for
// the stream to accept each part, then flushes and waits for the flush to
// end. The specification limits p to 4096 bytes; more is accepted.
func blockingWriteAndFlush(ctx context.Context, s OutputStream, p []byte, zeroes uint64) (any, error) {
	var zeros []byte
	for len(p) > 0 || zeroes > 0 {
		n, res, err := waitWritable(ctx, s)
		if err != nil || res != nil {
			return deref(res), err
		}
		var chunk []byte
		if len(p) > 0 {
			k := min(n, uint64(len(p)))
			chunk, p = p[:k], p[k:]
		} else {
			k := min(n, zeroes, skipChunk)
			if uint64(len(zeros)) < k {
				zeros = make([]byte, k)
			}
			chunk, zeroes = zeros[:k], zeroes-k
		}
		if err := s.Write(chunk); err != nil {
			return StreamError(err), nil
		}
	}
	if err := s.Flush(); err != nil {
		return StreamError(err), nil
	}
	if _, res, err := waitWritable(ctx, s); err != nil || res != nil {
		return deref(res), err
	}
	return cabi.Result{}, nil
}

func deref(r *cabi.Result) any {
	if r == nil {
		return nil
	}
	return *r
}

// splice moves what src has ready, at most n bytes and what dst accepts.
func splice(dst OutputStream, src InputStream, n uint64) (any, error) {
	permit, err := dst.CheckWrite()
	if err != nil {
		return StreamError(err), nil
	}
	if n = min(n, permit); n == 0 {
		return cabi.Result{Value: uint64(0)}, nil
	}
	b, err := src.Read(n)
	if len(b) == 0 && err != nil {
		return StreamError(err), nil
	}
	if err := dst.Write(b); err != nil {
		return StreamError(err), nil
	}
	return cabi.Result{Value: uint64(len(b))}, nil
}

// blockingSplice waits until dst accepts bytes and src has some, then
// splices.
func blockingSplice(ctx context.Context, dst OutputStream, src InputStream, n uint64) (any, error) {
	if n == 0 {
		return splice(dst, src, 0)
	}
	permit, res, err := waitWritable(ctx, dst)
	if err != nil || res != nil {
		return deref(res), err
	}
	b, err := blockingRead(ctx, src, min(n, permit))
	var t *trap
	if errors.As(err, &t) {
		return nil, t.err
	}
	if len(b) == 0 && err != nil {
		return StreamError(err), nil
	}
	if err := dst.Write(b); err != nil {
		return StreamError(err), nil
	}
	return cabi.Result{Value: uint64(len(b))}, nil
}
