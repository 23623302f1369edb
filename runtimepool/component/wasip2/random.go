package wasip2

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	mrand "math/rand/v2"

	"github.com/wasmserve/wasmserve/runtimepool/component"
)

// MaxRandomBytes bounds one get-random-bytes or get-insecure-random-bytes
// call: a guest asking for more traps instead of costing the host its
// memory.
const MaxRandomBytes = 16 << 20

func defineRandom(h *component.Host, cfg *Config) error {
	ns := names{}
	src := cfg.Random
	if src == nil {
		src = rand.Reader
	}
	secure := func(n uint64) ([]byte, error) {
		if n > MaxRandomBytes {
			return nil, fmt.Errorf("%d random bytes asked for, more than %d", n, MaxRandomBytes)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(src, b); err != nil {
			return nil, fmt.Errorf("reading random bytes: %w", err)
		}
		return b, nil
	}
	var seed [16]byte
	if _, err := io.ReadFull(src, seed[:]); err != nil {
		return fmt.Errorf("defining wasi:random: reading a seed: %w", err)
	}
	insts := []*component.HostInstance{{
		Name: "wasi:random/random", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"get-random-bytes": ns.fn("func(len: u64) -> list<u8>", func(_ context.Context, a []any) ([]any, error) {
				b, err := secure(a[0].(uint64))
				return []any{b}, err
			}),
			"get-random-u64": ns.fn("func() -> u64", func(context.Context, []any) ([]any, error) {
				b, err := secure(8)
				if err != nil {
					return nil, err
				}
				return []any{binary.LittleEndian.Uint64(b)}, nil
			}),
		},
	}, {
		Name: "wasi:random/insecure", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"get-insecure-random-bytes": ns.fn("func(len: u64) -> list<u8>", func(_ context.Context, a []any) ([]any, error) {
				n := a[0].(uint64)
				if n > MaxRandomBytes {
					return nil, fmt.Errorf("%d random bytes asked for, more than %d", n, MaxRandomBytes)
				}
				b := make([]byte, n)
				for i := 0; i < len(b); i += 8 {
					var w [8]byte
					binary.LittleEndian.PutUint64(w[:], mrand.Uint64())
					copy(b[i:], w[:])
				}
				return []any{b}, nil
			}),
			"get-insecure-random-u64": ns.fn("func() -> u64", func(context.Context, []any) ([]any, error) {
				return []any{mrand.Uint64()}, nil
			}),
		},
	}, {
		Name: "wasi:random/insecure-seed", Version: Version,
		Funcs: map[string]*component.HostFunc{
			"insecure-seed": ns.fn("func() -> tuple<u64, u64>", func(context.Context, []any) ([]any, error) {
				return []any{[]any{binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])}}, nil
			}),
		},
	}}
	for _, inst := range insts {
		if err := h.Define(inst); err != nil {
			return err
		}
	}
	return nil
}
