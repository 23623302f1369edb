package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/internal/wasmbin"
	"github.com/wasmserve/wasmserve/runtimepool"
	"github.com/wasmserve/wasmserve/runtimepool/component"
)

// isComponent reads the binary's preamble: a component (WASI 0.2) rather
// than a core module. A binary that is neither is an error.
func isComponent(wasm []byte) (bool, error) {
	format, err := wasmbin.DetectFormat(wasm)
	if err != nil {
		return false, err
	}
	return format == wasmbin.FormatComponent, nil
}

// pickComponentExecutor picks the executor kind for a component: the one
// named by abi, or the first component kind whose Detect accepts it.
func pickComponentExecutor(kinds []executor.Kind, abi string, info *component.Info) (executor.Kind, string, error) {
	var names []string
	for _, k := range kinds {
		if k.Component == nil {
			continue
		}
		names = append(names, k.Name)
		if abi != "" && abi != ABIAuto {
			if k.Name == abi {
				return k, "chosen by configuration", nil
			}
			continue
		}
		if why, ok := k.Component.Detect(info); ok {
			return k, why, nil
		}
	}
	for _, k := range kinds {
		if k.Name == abi && k.Component == nil {
			return executor.Kind{}, "", fmt.Errorf("--abi %s runs core modules, and this is a WebAssembly component (WASI 0.2); leave --abi at auto", abi)
		}
	}
	if abi != "" && abi != ABIAuto {
		return executor.Kind{}, "", fmt.Errorf("unknown ABI %q: want one of %s", abi, strings.Join(abiNames(kinds), ", "))
	}
	if len(names) == 0 {
		return executor.Kind{}, "", ErrComponent
	}
	var exports []string
	for _, e := range info.Exports {
		exports = append(exports, e.Name)
	}
	what := "nothing"
	if len(exports) > 0 {
		what = strings.Join(exports, ", ")
	}
	return executor.Kind{}, "", fmt.Errorf("this component exports %s, which no executor runs (wasmserve runs components exporting wasi:http/incoming-handler@0.2.x)", what)
}

// componentExecutor chooses and makes the executor of a component.
func (h *Handler) componentExecutor(wasm []byte) (executor.Kind, string, executor.Executor, error) {
	info, err := component.Inspect(wasm, nil)
	if err != nil {
		return executor.Kind{}, "", nil, fmt.Errorf("reading the component: %w", err)
	}
	kind, why, err := pickComponentExecutor(h.kinds, h.cfg.ABI, info)
	if err != nil {
		return kind, "", nil, err
	}
	exec, err := h.executor(kind)
	return kind, why, exec, err
}

// newComponentGeneration is newGeneration for a component: its isolates
// are component instances, linked to the executor's host.
func (h *Handler) newComponentGeneration(ctx context.Context, wasm []byte) (*generation, error) {
	kind, why, exec, err := h.componentExecutor(wasm)
	if err != nil {
		return nil, err
	}
	spec := exec.Pool()
	if spec.ComponentHost == nil {
		return nil, fmt.Errorf("executor %s gives no component host", kind.Name)
	}
	pc := h.poolConfig(spec)
	pc.Prepare = func(ctx context.Context, id string) (context.Context, *isolateState) {
		ctx, inst := exec.NewInstance(ctx, id)
		return ctx, &isolateState{guest: inst}
	}
	pc.BindComponent = func(st *isolateState, inst *component.Instance) error {
		b, ok := st.guest.(executor.ComponentBinder)
		if !ok {
			return fmt.Errorf("executor %s cannot bind a component instance", kind.Name)
		}
		return b.BindComponent(inst)
	}
	p, err := runtimepool.NewComponent(ctx, wasm, spec.ComponentHost, pc)
	if err != nil {
		return nil, err
	}
	return h.generation(p, kind, why), nil
}

// inspectComponent is Inspect for a component: its imports and exports,
// what the executor's host does not provide, and then one isolate started.
func inspectComponent(ctx context.Context, wasm []byte, cfg HandlerConfig) (*executor.Report, error) {
	kinds := cfg.Executors
	if kinds == nil {
		kinds = DefaultExecutors()
	}
	info, err := component.Inspect(wasm, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the component: %w", err)
	}
	kind, why, err := pickComponentExecutor(kinds, cfg.ABI, info)
	if err != nil {
		return nil, err
	}
	exec, err := kind.New(executor.Env{Logger: slog.New(slog.DiscardHandler), Output: executor.NewOutputLimiter(0), Env: cfg.Env, Dirs: cfg.Dirs})
	if err != nil {
		return nil, err
	}
	if c, ok := exec.(interface{ Close() error }); ok {
		defer c.Close()
	}
	linked, err := component.Inspect(wasm, exec.Pool().ComponentHost)
	if err != nil {
		return nil, fmt.Errorf("linking the component: %w", err)
	}
	rep := &executor.Report{ABI: kind.Title + " (" + why + ")", Component: true}
	for _, imp := range linked.Imports {
		rep.Imports = append(rep.Imports, imp.Name)
	}
	for _, e := range linked.Exports {
		rep.Exports = append(rep.Exports, e.Name)
		funcs := append([]string(nil), e.Funcs...)
		sort.Strings(funcs)
		for _, f := range funcs {
			rep.Exports = append(rep.Exports, e.Name+"#"+f)
		}
	}
	for _, m := range linked.Missing {
		rep.Problem("imports %s, which wasmserve does not provide", m)
	}
	rep.Tidy()
	if !rep.OK() {
		return rep, nil
	}
	cfg.Isolates = 1
	h, err := NewHandler(ctx, wasm, cfg)
	if err != nil {
		rep.Problem("starting an instance: %s", firstLine(err.Error()))
		return rep, nil
	}
	if err := h.Close(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return rep, nil
	}
	return rep, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
