package wasihttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

// KindName is the executor's name, as --abi takes it.
const KindName = "wasi-http"

// KindConfig configures the executor. The zero value refuses every
// outgoing request.
type KindConfig struct {
	// Outbound is the policy and transport of the guests' outgoing
	// requests: the outbound extension's (outbound.Extension.Host), so
	// that components obey the same --allow-outbound and count in the
	// same metrics as core modules. Nil refuses every outgoing request.
	Outbound *outbound.Host
	// KeyValue, when set, defines wasi:keyvalue on the components' host:
	// wasikv.Definer of the key-value extension, so that components reach
	// the same stores as core modules. Nil defines nothing: a component
	// importing wasi:keyvalue is refused at load, naming the import.
	KeyValue func(*component.Host) error
}

// Kind is the executor of wasi:http proxy components: a component that
// exports wasi:http/incoming-handler@0.2.x, as wasmtime serve, Spin and jco
// serve run. Every request gets a fresh instance, taken from instances
// made ahead of it, as wasmtime serve does: a componentize-js guest cannot
// answer twice on one instance.
func Kind(cfg KindConfig) executor.Kind {
	return executor.Kind{
		Name:      KindName,
		Title:     "wasi:http proxy component",
		Component: &executor.ComponentKind{Detect: detect},
		New:       func(env executor.Env) (executor.Executor, error) { return newExecutor(env, cfg) },
	}
}

// incomingHandlerFamily is the export a component serving HTTP has, at any
// 0.2.x version.
const incomingHandlerFamily = "wasi:http/incoming-handler@0.2."

// detect accepts a component exporting wasi:http/incoming-handler@0.2.x.
func detect(info *component.Info) (string, bool) {
	for _, e := range info.Exports {
		if strings.HasPrefix(e.Name, incomingHandlerFamily) {
			return "it exports " + e.Name, true
		}
	}
	return "", false
}

// kindExecutor is the executor of one handler: the component host its
// components link against.
type kindExecutor struct {
	env  executor.Env
	host *component.Host
}

func newExecutor(env executor.Env, cfg KindConfig) (*kindExecutor, error) {
	h := &component.Host{}
	wc := wasip2.Config{Env: env.Env}
	for _, d := range env.Dirs {
		guest := d.Guest
		if guest == "" {
			guest = d.Host
		}
		wc.Dirs = append(wc.Dirs, wasip2.Dir{HostPath: d.Host, GuestPath: guest, ReadOnly: d.ReadOnly})
	}
	if err := wasip2.Define(h, wc); err != nil {
		return nil, err
	}
	if err := Define(h, Config{Outbound: cfg.Outbound}); err != nil {
		return nil, err
	}
	if cfg.KeyValue != nil {
		if err := cfg.KeyValue(h); err != nil {
			return nil, err
		}
	}
	return &kindExecutor{env: env, host: h}, nil
}

// Pool asks for a fresh instance per request, linked against the host.
func (x *kindExecutor) Pool() executor.PoolSpec {
	return executor.PoolSpec{ComponentHost: x.host, OneRequestPerIsolate: true, IsolatesPerCPU: 2}
}

// NewInstance makes the state of one instance: its standard streams, to
// the log under the guest-output rate limit, and its wasi:http state.
func (x *kindExecutor) NewInstance(ctx context.Context, id string) (context.Context, executor.Instance) {
	inst := &instance{x: x, http: &State{ID: id}, wasi: &wasip2.State{
		Stdout: executor.NewLineWriter(x.env.Logger, x.env.Output, id, "stdout"),
		Stderr: executor.NewLineWriter(x.env.Logger, x.env.Output, id, "stderr"),
	}}
	return ctx, inst
}

// instance is the executor's state of one component instance.
type instance struct {
	x      *kindExecutor
	ci     *component.Instance
	handle *component.Func
	http   *State
	wasi   *wasip2.State
}

var (
	_ executor.ComponentBinder = (*instance)(nil)
	_ StateHolder              = (*instance)(nil)
	_ wasip2.StateHolder       = (*instance)(nil)
)

func (i *instance) HTTPState() *State        { return i.http }
func (i *instance) WASIState() *wasip2.State { return i.wasi }

// Bind refuses a core module: this executor runs components.
func (i *instance) Bind(api.Module) error {
	return errors.New("the wasi:http executor runs components, not core modules")
}

// BindComponent attaches the component instance and finds its handler.
func (i *instance) BindComponent(ci *component.Instance) error {
	f, err := ci.Component().Func(incomingHandlerFamily+"0", "handle")
	if err != nil {
		return fmt.Errorf("the component does not export wasi:http/incoming-handler@0.2.x#handle: %w", err)
	}
	i.ci, i.handle = ci, f
	ci.Data = i
	return nil
}

// Handle serves one request on the instance.
func (i *instance) Handle(ctx context.Context, w http.ResponseWriter, r *http.Request) executor.Outcome {
	res := Serve(ctx, i.ci, i.handle, w, r, ServeOptions{MaxBody: i.x.env.MaxBody})
	return res.Outcome()
}
