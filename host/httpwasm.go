package host

import (
	"context"

	"github.com/wasmserve/wasmserve/abi"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// httpWasmKind runs guests of the http-wasm handler ABI (package abi): the
// default, for a module that imports http_handler or exports
// handle_request.
var httpWasmKind = executorKind{
	name:  "http-wasm",
	title: "http-wasm handler",
	detect: func(s runtimepool.Shape) (string, bool) {
		switch {
		case s.Imports(abi.ModuleName):
			return "it imports " + abi.ModuleName, true
		case s.Exports(abi.ExportHandleRequest):
			return "it exports " + abi.ExportHandleRequest, true
		}
		return "", false
	},
	inspect: abi.Inspect,
	make:    newHTTPWasm,
}

// httpWasm is the http-wasm executor: one abi.Host for the Handler, and an
// abi.Guest for every isolate.
type httpWasm struct {
	host *abi.Host
}

func newHTTPWasm(h *Handler) (executor, error) {
	cfg := h.cfg
	x := &httpWasm{host: &abi.Host{Logger: h.log, Config: cfg.GuestConfig, MaxBufferedBody: cfg.MaxBufferedBody,
		LogAllow: h.out.allow}} // log() shares the guest output rate with stdout and stderr
	if x.host.MaxBufferedBody == 0 {
		x.host.MaxBufferedBody = cfg.MaxBody
	}
	if cfg.Upstream != "" {
		u, err := ParseUpstream(cfg.Upstream)
		if err != nil {
			return nil, err
		}
		x.host.Next = NewProxy(u, ProxyConfig{MaxIdle: cfg.UpstreamMaxIdle, Timeout: cfg.UpstreamTimeout, Logger: h.log})
	}
	return x, nil
}

func (x *httpWasm) configure(pc *runtimepool.Config[*isolateState]) {
	pc.Installers = append(pc.Installers, x.host.Install)
	pc.Validate = abi.Validate
	// The ABI's per-request state is reset by every request; what the
	// start function sets (enable_features) does not change afterwards.
	pc.ResetSafeImports = append(pc.ResetSafeImports, abi.ModuleName)
}

func (x *httpWasm) prepare(ctx context.Context, id string) (context.Context, instance) {
	g := x.host.NewGuest(id)
	return g.Context(ctx), g
}
