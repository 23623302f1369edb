package host

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/executor"
)

// TestChooseExecutor: the executor auto detection picks, what --abi forces,
// and the errors of an unknown name and of bytes that do not parse.
func TestChooseExecutor(t *testing.T) {
	cases := []struct {
		name, file, abi string
		want, why, err  string
	}{
		{"imports http_handler", "guest-examples/hello-wat/hello.wasm", "", "http-wasm", "imports http_handler", ""},
		{"auto spelled out", "guest-examples/hello-wat/hello.wasm", ABIAuto, "http-wasm", "imports http_handler", ""},
		{"imports an unknown http_handler function", "cmd/wasmserve/testdata/badimport.wasm", "", "http-wasm", "imports http_handler", ""},
		{"nothing recognised: the default", "cmd/wasmserve/testdata/nohandler.wasm", "", "http-wasm", "tried the default", ""},
		{"forced", "cmd/wasmserve/testdata/nohandler.wasm", "http-wasm", "http-wasm", "chosen by configuration", ""},
		{"unknown name", "guest-examples/hello-wat/hello.wasm", "wagi2", "", "", `unknown ABI "wagi2": want one of auto, http-wasm`},
		{"not wasm", "cmd/wasmserve/testdata/notwasm.wasm", "", "", "", "not a WebAssembly binary (no \\0asm magic)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mod, err := parseModule(readFile(t, c.file))
			kind, why := executor.Kind{}, ""
			if err == nil {
				kind, why, err = pickExecutor(DefaultExecutors(), c.abi, mod.Shape())
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if kind.Name != c.want || !strings.Contains(why, c.why) {
				t.Errorf("chose %s because %q, want %s because …%s…", kind.Name, why, c.want, c.why)
			}
		})
	}
}

// TestReloadAfterClose: a reload that comes once Close has begun swaps in
// nothing (a generation nobody would drain) and says so; reloads racing a
// Close either land before it, and are drained by it, or fail that way.
func TestReloadAfterClose(t *testing.T) {
	wasm := readFile(t, "guest-examples/hello-wat/hello.wasm")
	h, err := NewHandler(context.Background(), wasm, HandlerConfig{Isolates: 1})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- h.Reload(context.Background(), wasm)
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, ErrHandlerClosed) {
			t.Errorf("reload racing close: %v", err)
		}
	}
	if err := h.Reload(context.Background(), wasm); !errors.Is(err, ErrHandlerClosed) {
		t.Fatalf("reload after close: %v, want ErrHandlerClosed", err)
	}
	if h.Pool().Healthy() {
		t.Error("the pool serving after Close is still open")
	}
}
