package component

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// counter is the Go value of the test host's counter resource.
type counter struct{ n uint32 }

// testHost is the host of testdata/host.wat: test:host/api with a counter
// resource. It records what the guest logs and how many counters it drops.
type testHost struct {
	mu     sync.Mutex
	logged []string
	drops  atomic.Int32
}

var counterType = &cabi.Resource{Name: "counter"}

func (th *testHost) instance(version string, omit string) *HostInstance {
	own := &cabi.Type{Kind: cabi.KindOwn, Resource: counterType}
	borrow := &cabi.Type{Kind: cabi.KindBorrow, Resource: counterType}
	funcs := map[string]*HostFunc{
		"log": {Params: []Param{{"msg", cabi.StringType}}, Call: func(_ context.Context, args []any) ([]any, error) {
			th.mu.Lock()
			th.logged = append(th.logged, args[0].(string))
			th.mu.Unlock()
			return nil, nil
		}},
		"[constructor]counter": {Params: []Param{{"start", cabi.U32Type}}, Results: []*cabi.Type{own},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{&counter{n: args[0].(uint32)}}, nil
			}},
		"[method]counter.add": {Params: []Param{{"self", borrow}, {"n", cabi.U32Type}}, Results: []*cabi.Type{cabi.U32Type},
			Call: func(_ context.Context, args []any) ([]any, error) {
				c := args[0].(*counter)
				c.n += args[1].(uint32)
				return []any{c.n}, nil
			}},
		"pair": {Results: []*cabi.Type{cabi.TupleOf(cabi.StringType, cabi.ListOf(cabi.U8Type))},
			Call: func(context.Context, []any) ([]any, error) {
				return []any{[]any{"abc", []byte{1, 2, 3, 4}}}, nil
			}},
	}
	delete(funcs, omit)
	return &HostInstance{Name: "test:host/api", Version: version, Funcs: funcs,
		Resources: map[string]*HostResource{"counter": {Type: counterType, Drop: func(any) { th.drops.Add(1) }}}}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// load loads testdata/host.wasm against a test host in a runtime of its own.
func load(t testing.TB, th *testHost) *Component {
	t.Helper()
	ctx := context.Background()
	h := &Host{}
	if err := h.Define(th.instance("0.1.3", "")); err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	c, err := Load(ctx, rt, readFixture(t, "host.wasm"), h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(ctx) })
	return c
}

func call(t *testing.T, inst *Instance, c *Component, name string, args ...any) []any {
	t.Helper()
	f, err := c.Func(name)
	if err != nil {
		t.Fatal(err)
	}
	out, err := inst.Call(context.Background(), f, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

func TestCalls(t *testing.T) {
	t.Parallel()
	th := &testHost{}
	c := load(t, th)
	ctx := context.Background()
	inst, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)

	tests := []struct {
		name string
		fn   string
		args []any
		want any
	}{
		{"string in and out, through memory and realloc", "echo", []any{"héllo, wörld"}, "héllo, wörld"},
		{"empty string", "echo", []any{""}, ""},
		{"host resource made, used and dropped by the guest", "count", []any{uint32(5)}, uint32(15)},
		{"spilled tuple results lowered by realloc", "pair-len", nil, uint32(7)},
		{"host value lent to the guest and given back", "add-to", []any{&counter{n: 40}, uint32(2)}, uint32(42)},
	}
	for _, tt := range tests {
		out := call(t, inst, c, tt.fn, tt.args...)
		if len(out) != 1 || out[0] != tt.want {
			t.Errorf("%s: %s(%v) = %v, want %v", tt.name, tt.fn, tt.args, out, tt.want)
		}
	}
	if got := call(t, inst, c, "posts")[0]; got != uint32(2) {
		t.Errorf("post-return ran %v times after two calls of echo, want 2", got)
	}
	if got := th.drops.Load(); got != 1 {
		t.Errorf("the host's drop ran %d times, want 1 (count drops its counter)", got)
	}
	th.mu.Lock()
	defer th.mu.Unlock()
	if strings.Join(th.logged, "|") != "héllo, wörld|" {
		t.Errorf("logged %q", th.logged)
	}
}

func TestNestedExport(t *testing.T) {
	t.Parallel()
	c := load(t, &testHost{})
	ctx := context.Background()
	inst, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	// 1.0.0 asks for what 1.2.3 provides: the same major version.
	f, err := c.Func("test:nested/fns@1.0.0", "g")
	if err != nil {
		t.Fatal(err)
	}
	out, err := inst.Call(ctx, f, uint32(1))
	if err != nil || out[0] != uint32(11) {
		t.Fatalf("nested g(1) = %v, %v; want 11", out, err)
	}
	if _, err := c.Func("test:nested/fns@2.0.0", "g"); err == nil {
		t.Error("version 2.0.0 found in an export of 1.2.3")
	}
	if !c.Exports("test:nested/fns@1.9.0") {
		t.Error("Exports(test:nested/fns@1.9.0) = false")
	}
}

func TestTrapsBreakTheInstance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, fn string
		args     []any
		want     string
	}{
		{"unreachable", "boom", nil, "unreachable"},
		{"a borrow kept past its call", "keep", []any{&counter{}}, "borrowed handles not dropped"},
		{"an argument of the wrong Go type", "count", []any{"five"}, "count"},
	}
	c := load(t, &testHost{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			inst, err := c.Instantiate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer inst.Close(ctx)
			f, _ := c.Func(tt.fn)
			_, err = inst.Call(ctx, f, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%s: err = %v, want one containing %q", tt.fn, err, tt.want)
			}
			echo, _ := c.Func("echo")
			if _, err := inst.Call(ctx, echo, "x"); !errors.Is(err, ErrBroken) {
				t.Errorf("the next call: err = %v, want ErrBroken", err)
			}
			if inst.Broken() == nil {
				t.Error("Broken() = nil after a trap")
			}
		})
	}
}

func TestInstancesShareNothing(t *testing.T) {
	t.Parallel()
	c := load(t, &testHost{})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			inst, err := c.Instantiate(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer inst.Close(ctx)
			echo, _ := c.Func("echo")
			posts, _ := c.Func("posts")
			for i := 0; i < 20+g; i++ {
				s := strings.Repeat("x", i*g)
				out, err := inst.Call(ctx, echo, s)
				if err != nil || out[0] != s {
					errs <- errors.New("echo went wrong")
					return
				}
			}
			out, err := inst.Call(ctx, posts)
			if err != nil || out[0] != uint32(20+g) {
				errs <- errors.New("posts counted another instance's calls")
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestLinkErrors(t *testing.T) {
	t.Parallel()
	wrongLog := func(th *testHost) *HostInstance {
		hi := th.instance("0.1.0", "")
		hi.Funcs["log"] = &HostFunc{Params: []Param{{"msg", cabi.U32Type}}, Call: hi.Funcs["log"].Call}
		return hi
	}
	tests := []struct {
		name string
		inst func(*testHost) *HostInstance
		want string
	}{
		{"no such interface", nil, "does not provide: test:host/api@0.1.0"},
		{"a function missing", func(th *testHost) *HostInstance { return th.instance("0.1.0", "pair") }, "test:host/api@0.1.0#pair"},
		{"an incompatible version", func(th *testHost) *HostInstance { return th.instance("0.2.0", "") }, "does not provide: test:host/api@0.1.0"},
		{"another type", wrongLog, "test:host/api@0.1.0#log: declared as func(msg: string); the host implements func(msg: u32)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := &Host{}
			if tt.inst != nil {
				if err := h.Define(tt.inst(&testHost{})); err != nil {
					t.Fatal(err)
				}
			}
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			_, err := Load(ctx, rt, readFixture(t, "host.wasm"), h)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	t.Parallel()
	info, err := Inspect(readFixture(t, "host.wasm"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Imports) != 1 || info.Imports[0].Name != "test:host/api@0.1.0" || info.Imports[0].Provided {
		t.Fatalf("imports = %+v", info.Imports)
	}
	if got := strings.Join(info.Imports[0].Funcs, ","); got != "log,[constructor]counter,[method]counter.add,pair" {
		t.Errorf("imported functions = %s", got)
	}
	if strings.Join(info.Missing, ",") != "test:host/api@0.1.0" {
		t.Errorf("missing = %v", info.Missing)
	}
	var names []string
	for _, e := range info.Exports {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, ","); got != "echo,posts,count,pair-len,add-to,keep,boom,test:nested/fns@1.2.3" {
		t.Errorf("exports = %s", got)
	}
}

func TestTrapMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	c, err := Load(ctx, rt, readFixture(t, "host.wasm"), &Host{TrapMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	inst, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	f, _ := c.Func("echo")
	if _, err := inst.Call(ctx, f, "x"); err == nil || !strings.Contains(err.Error(), "test:host/api@0.1.0#log is not provided") {
		t.Fatalf("calling an unprovided import: err = %v", err)
	}
}

func TestUnsupported(t *testing.T) {
	t.Parallel()
	_, err := Inspect(readFixture(t, "stream.wasm"), nil)
	want := "the stream type is not supported: wasmserve runs synchronous WASI 0.2 components"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want one containing %q", err, want)
	}
}

// TestRealComponent loads and instantiates a component built by a real
// toolchain, named by WASMSERVE_COMPONENT (such as componentize-js output),
// with every import trapping: its start must not call any.
func TestRealComponent(t *testing.T) {
	path := os.Getenv("WASMSERVE_COMPONENT")
	if path == "" {
		t.Skip("WASMSERVE_COMPONENT names no component")
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(ctx, rt, bin, &Host{TrapMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	inst, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inst.Close(ctx)
	for _, imp := range c.Info().Imports {
		t.Logf("import %s (%d functions)", imp.Name, len(imp.Funcs))
	}
	for _, e := range c.Info().Exports {
		t.Logf("export %s %v", e.Name, e.Funcs)
	}
}
