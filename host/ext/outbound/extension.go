// Package outbound is the host extension of guests' outbound HTTP calls:
// the wasmserve_http import module (docs/outbound.md) under a policy — deny
// by default, origins allowed by pattern, private networks blocked after
// DNS resolution — with caps on calls per request, calls in flight and
// response bodies, and counts for the metrics that survive reloads.
//
// The package is the host side of wasmserve_http, whose contract (names,
// codes, the table of functions and signatures) is package abi/outbound: a
// [Host] defines the module in each runtime and runs its functions over
// guest memory (module.go, call.go), handing every call to [Host.Send],
// which is the policy's (policy.go). A guest opens a call with request, adds
// headers, streams a body with write_body, and gets the response head with
// send; it then reads the response headers and streams the response body,
// and closes the handle.
package outbound

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	contract "github.com/wasmserve/wasmserve/abi/outbound"
	"github.com/wasmserve/wasmserve/host/ext"
)

// Extension offers wasmserve_http to the guests of a handler. It
// implements ext.Extension.
type Extension struct {
	host   *Host
	client *client
}

var _ ext.Extension = (*Extension)(nil)

// New checks cfg and returns the extension; logger receives refused calls
// (nil discards).
func New(cfg Config, logger *slog.Logger) (*Extension, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h, c, err := newClient(cfg, logger)
	if err != nil {
		return nil, err
	}
	return &Extension{host: h, client: c}, nil
}

// Host is the policy and transport of the extension's calls, for other
// ways of calling out that must obey the same policy and count in the same
// metrics (a component's wasi:http outgoing-handler).
func (e *Extension) Host() *Host { return e.host }

// ModuleName is wasmserve_http.
func (e *Extension) ModuleName() string { return contract.ModuleName }

// Install defines wasmserve_http in rt.
func (e *Extension) Install(ctx context.Context, rt wazero.Runtime) error {
	return e.host.Install(ctx, rt)
}

// Validate checks cm's imports of wasmserve_http.
func (e *Extension) Validate(cm wazero.CompiledModule) error { return Validate(cm) }

// CheckImport checks one import of wasmserve_http.
func (e *Extension) CheckImport(name string, params, results []api.ValueType) error {
	return CheckImport(name, params, results)
}

// ResetSafe is true: End closes every call of a request, so nothing stays
// from one request to the next, and a start function can make none.
func (e *Extension) ResetSafe() bool { return true }

// NewIsolate returns the calls state of a new isolate.
func (e *Extension) NewIsolate(ctx context.Context, id string) (context.Context, ext.Isolate) {
	c := e.host.NewCalls(id)
	return c.Context(ctx), isolate{c}
}

// Close closes the idle connections to the origins guests called.
func (e *Extension) Close(context.Context) error {
	e.client.tr.CloseIdleConnections()
	return nil
}

// Stats returns the counts of guests' outbound calls so far.
func (e *Extension) Stats() Stats { return e.client.stats.snapshot() }

// Collector exposes Stats as Prometheus metrics
// (wasmserve_outbound_calls_total and the rest).
func (e *Extension) Collector() prometheus.Collector { return collector{e} }

// isolate adapts Calls to ext.Isolate.
type isolate struct{ c *Calls }

func (i isolate) Bind(mod api.Module) error { i.c.Bind(mod); return nil }

func (i isolate) Begin(ctx context.Context, deadline time.Time) { i.c.Begin(ctx, deadline) }

func (i isolate) End() { i.c.End() }
