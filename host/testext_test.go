package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/host/ext"
)

// counterExt is a host extension of the tests, in this file alone: the
// import module test_counter, whose fill(ptr, len) -> n writes
// "isolate <id> request <n>" into the guest's memory, n counting the
// requests Begin started on that isolate. It plugs into the handler
// through HandlerConfig.Extensions only.
type counterExt struct {
	isolates atomic.Int32 // NewIsolate calls
	closed   atomic.Bool
	mods     sync.Map // api.Module → *counterIsolate
}

type counterIsolate struct {
	e        *counterExt
	id       string
	requests int
	inside   bool // between Begin and End
}

func (e *counterExt) ModuleName() string { return "test_counter" }

func (e *counterExt) Install(ctx context.Context, rt wazero.Runtime) error {
	i32 := api.ValueTypeI32
	_, err := rt.NewHostModuleBuilder("test_counter").NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(e.fill), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		Export("fill").Instantiate(ctx)
	return err
}

func (e *counterExt) fill(_ context.Context, mod api.Module, stack []uint64) {
	v, ok := e.mods.Load(mod)
	if !ok || !v.(*counterIsolate).inside {
		panic(errors.New("test_counter.fill called outside a request"))
	}
	ci := v.(*counterIsolate)
	msg := fmt.Sprintf("isolate %s request %d", ci.id, ci.requests)
	if len(msg) > int(uint32(stack[1])) || !mod.Memory().WriteString(uint32(stack[0]), msg) {
		panic(errors.New("test_counter.fill: buffer out of range"))
	}
	stack[0] = uint64(len(msg))
}

func (e *counterExt) Validate(cm wazero.CompiledModule) error {
	for _, f := range cm.ImportedFunctions() {
		if mod, name, _ := f.Import(); mod == "test_counter" {
			if err := e.CheckImport(name, f.ParamTypes(), f.ResultTypes()); err != nil {
				return fmt.Errorf("module imports test_counter.%s: %w", name, err)
			}
		}
	}
	return nil
}

func (e *counterExt) CheckImport(name string, params, results []api.ValueType) error {
	if name != "fill" || len(params) != 2 || params[0] != api.ValueTypeI32 || params[1] != api.ValueTypeI32 ||
		len(results) != 1 || results[0] != api.ValueTypeI32 {
		return errors.New("want fill(i32, i32) -> i32")
	}
	return nil
}

func (e *counterExt) ResetSafe() bool { return false }

func (e *counterExt) NewIsolate(ctx context.Context, id string) (context.Context, ext.Isolate) {
	e.isolates.Add(1)
	return ctx, &counterIsolate{e: e, id: id}
}

func (e *counterExt) Close(context.Context) error {
	e.closed.Store(true)
	return nil
}

func (ci *counterIsolate) Bind(mod api.Module) error {
	ci.e.mods.Store(mod, ci)
	return nil
}

func (ci *counterIsolate) Begin(context.Context, time.Time) { ci.requests++; ci.inside = true }

func (ci *counterIsolate) End() { ci.inside = false }

// TestExtensionSeam: an extension of the tests plugs in through
// HandlerConfig.Extensions: a guest importing it gets per-isolate state
// begun and ended with every request; a guest that does not import it
// gets none; a wrong import of it is refused naming it; closing the
// handler leaves the extension, which its maker owns, open.
func TestExtensionSeam(t *testing.T) {
	e := &counterExt{}
	h := newTestHandler(t, readFile(t, "host/testdata/extguest.wasm"), HandlerConfig{Isolates: 1, Extensions: []ext.Extension{e}})
	base := startPlain(t, h)
	for i := 1; i <= 3; i++ {
		code, body, _ := fetch(t, "GET", base+"/", nil)
		if want := fmt.Sprintf("request %d", i); code != 200 || !strings.HasPrefix(body, "isolate i") || !strings.HasSuffix(body, want) {
			t.Fatalf("request %d: %d %q, want 200 ending %q", i, code, body, want)
		}
	}
	if n := e.isolates.Load(); n != 1 {
		t.Errorf("%d isolate states made for one isolate", n)
	}

	plain := &counterExt{}
	hello := newTestHandler(t, readFile(t, "guest-examples/hello-wat/hello.wasm"), HandlerConfig{Isolates: 2, Extensions: []ext.Extension{plain}})
	if code, _, _ := fetch(t, "GET", startPlain(t, hello)+"/", nil); code != 200 {
		t.Errorf("a guest without the import: %d", code)
	}
	if n := plain.isolates.Load(); n != 0 {
		t.Errorf("a guest that does not import the extension got %d isolate states", n)
	}

	_, err := NewHandler(context.Background(), readFile(t, "host/testdata/extbad.wasm"), HandlerConfig{Isolates: 1, Extensions: []ext.Extension{&counterExt{}}})
	if err == nil || !strings.Contains(err.Error(), "test_counter.fill: want fill(i32, i32) -> i32") {
		t.Errorf("wrong import: %v", err)
	}

	closing := &counterExt{}
	hc, err := NewHandler(context.Background(), readFile(t, "host/testdata/extguest.wasm"), HandlerConfig{Isolates: 1, Extensions: []ext.Extension{closing}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(context.Background(), readFile(t, "host/testdata/extguest.wasm"), HandlerConfig{Extensions: []ext.Extension{closing}}); err != nil {
		t.Fatal(err)
	}
	if err := hc.Close(context.Background()); err != nil || closing.closed.Load() {
		t.Errorf("Close: %v, extension closed %v (its maker closes it)", err, closing.closed.Load())
	}
}
