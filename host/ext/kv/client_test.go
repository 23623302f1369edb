package kv

import (
	"context"
	"errors"
	"strings"
	"testing"

	contract "github.com/wasmserve/wasmserve/abi/kv"
)

// TestClient: a Client gives the configured store only, and its failures
// carry the code and message wasmserve_kv would give.
func TestClient(t *testing.T) {
	t.Parallel()
	e, err := New(Config{Stores: []StoreConfig{{Name: "s", URL: "mem:"}}, MaxValue: 4, MaxKeys: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	if _, ok := (*Extension)(nil).Client("s"); ok {
		t.Error("a nil extension gave a client")
	}
	if _, ok := e.Client("other"); ok {
		t.Error("an unconfigured name gave a client")
	}
	c, ok := e.Client("s")
	if !ok || c.Name() != "s" {
		t.Fatalf("Client(s) = %v, %v", c, ok)
	}
	ctx := context.Background()
	if _, err := c.Get(ctx, "absent"); err != ErrNotFound {
		t.Errorf("Get of an absent key: %v, want ErrNotFound itself", err)
	}
	if err := c.Set(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		code contract.Code
		is   error
		msg  string
	}{
		{"empty key", c.Set(ctx, "", nil), contract.CodeInvalid, nil, `store "s": set: empty key`},
		{"too big", c.Set(ctx, "a", []byte("12345")), contract.CodeTooBig, nil, `store "s": set "a": a value of 5 bytes, over the largest, 4`},
		{"quota", c.Set(ctx, "b", nil), contract.CodeQuota, ErrQuota, `store "s": set "b": store is full`},
		{"not a number", func() error { c.Set(ctx, "a", []byte("x")); _, err := c.Increment(ctx, "a", 1); return err }(), contract.CodeNotNumber, ErrNotNumber, `increment "a"`},
		{"bad cursor", func() error { _, _, err := c.Keys(ctx, "a\x00"); return err }(), contract.CodeInvalid, nil, "invalid cursor"},
		{"swap too big", func() error { _, err := c.CompareAndSwap(ctx, "a", nil, true, []byte("12345")); return err }(), contract.CodeTooBig, nil, "compare_and_swap"},
	} {
		var ke *Error
		if !errors.As(tc.err, &ke) || ke.Code != tc.code || !strings.Contains(ke.Error(), tc.msg) {
			t.Errorf("%s: %v, want code %v and %q", tc.name, tc.err, tc.code, tc.msg)
			continue
		}
		if tc.is != nil && !errors.Is(tc.err, tc.is) {
			t.Errorf("%s: %v does not wrap %v", tc.name, tc.err, tc.is)
		}
	}
}
