package httpwasm

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/host/executor"
)

//go:embed testdata/probe.wasm
var probeWasm []byte

// probe is one instance of testdata/probe.wat bound to a Host. Its
// handle_request calls the test's hook, from which the test calls host
// functions through the module's call_* re-exports, exactly as a guest does.
type probe struct {
	t    *testing.T
	host *Host
	g    *Guest
	mod  api.Module
	hook func(ctx context.Context)
}

// memSize is the probe's fixed memory: one page.
const memSize = 65536

func newProbe(t *testing.T, h *Host) *probe {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	if err := h.Install(ctx, rt); err != nil {
		t.Fatal(err)
	}
	p := &probe{t: t, host: h}
	_, err := rt.NewHostModuleBuilder("test").NewFunctionBuilder().
		WithFunc(func(ctx context.Context) {
			if p.hook != nil {
				p.hook(ctx)
			}
		}).Export("hook").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := rt.CompileModule(ctx, probeWasm)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(cm, []executor.ImportChecker{hookImport{}}); err != nil {
		t.Fatalf("probe does not validate: %v", err)
	}
	p.g = h.NewGuest("probe")
	p.mod, err = rt.InstantiateModule(p.g.Context(ctx), cm, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.g.Bind(p.mod); err != nil {
		t.Fatal(err)
	}
	return p
}

// hookImport admits the probe's import of test.hook.
type hookImport struct{}

func (hookImport) ModuleName() string { return "test" }

func (hookImport) CheckImport(name string, params, results []api.ValueType) error {
	if name != "hook" || len(params) != 0 || len(results) != 0 {
		return errors.New("want hook() -> ()")
	}
	return nil
}

// serve runs r through the probe with fn as the body of handle_request and
// returns what the client would get.
func (p *probe) serve(r *http.Request, fn func(ctx context.Context)) (*httptest.ResponseRecorder, error) {
	p.t.Helper()
	p.hook = fn
	defer func() { p.hook = nil }()
	w := httptest.NewRecorder()
	err := p.g.Handle(context.Background(), w, r)
	return w, err
}

// call calls host function name through the probe's re-export.
func (p *probe) call(ctx context.Context, name string, args ...uint64) (uint64, error) {
	f := p.mod.ExportedFunction("call_" + name)
	if f == nil {
		p.t.Fatalf("probe has no call_%s", name)
	}
	res, err := f.Call(ctx, args...)
	if err != nil || len(res) == 0 {
		return 0, err
	}
	return res[0], nil
}

// must calls and fails the test on a trap.
func (p *probe) must(ctx context.Context, name string, args ...uint64) uint64 {
	p.t.Helper()
	v, err := p.call(ctx, name, args...)
	if err != nil {
		p.t.Fatalf("%s(%v): unexpected trap: %v", name, args, err)
	}
	return v
}

// trap calls and fails the test unless the call trapped with a TrapError
// naming the function.
func (p *probe) trap(ctx context.Context, name string, args ...uint64) *TrapError {
	p.t.Helper()
	_, err := p.call(ctx, name, args...)
	if err == nil {
		p.t.Fatalf("%s(%v): want a trap, got none", name, args)
	}
	var te *TrapError
	if !errors.As(err, &te) {
		p.t.Fatalf("%s(%v): want a *TrapError, got %T: %v", name, args, err, err)
	}
	if te.Func != name {
		p.t.Fatalf("%s(%v): trap names %q", name, args, te.Func)
	}
	return te
}

func (p *probe) write(off uint32, b []byte) {
	if !p.mod.Memory().Write(off, b) {
		p.t.Fatalf("write at %d out of range", off)
	}
}

func (p *probe) read(off, n uint32) []byte {
	b, ok := p.mod.Memory().Read(off, n)
	if !ok {
		p.t.Fatalf("read at %d+%d out of range", off, n)
	}
	return bytes.Clone(b)
}

// fill sets all of memory to a sentinel so that tests can see exactly what
// a host function wrote.
func (p *probe) fill() {
	p.write(0, bytes.Repeat([]byte{0xAA}, memSize))
}

// untouched reports whether all of memory still holds the sentinel.
func (p *probe) untouched() bool {
	return bytes.Equal(p.read(0, memSize), bytes.Repeat([]byte{0xAA}, memSize))
}
