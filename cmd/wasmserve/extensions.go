package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wasmserve/wasmserve/host/ext"
	"github.com/wasmserve/wasmserve/host/ext/kv"
	"github.com/wasmserve/wasmserve/host/ext/outbound"
)

// extensions are the host extensions the command makes for a handler:
// outbound HTTP and the key-value stores. The command closes them once the
// handler is closed.
type extensions struct {
	ob *outbound.Extension
	kv *kv.Extension
}

// newExtensions makes the extensions of m's configuration; logger receives
// their messages.
func newExtensions(m *moduleConfig, logger *slog.Logger) (*extensions, error) {
	ob, err := outbound.New(m.oc, logger)
	if err != nil {
		return nil, err
	}
	store, err := kv.New(m.kc, logger)
	if err != nil {
		ob.Close(context.Background())
		return nil, err
	}
	return &extensions{ob: ob, kv: store}, nil
}

// list is the extensions in the handler's order.
func (x *extensions) list() []ext.Extension { return []ext.Extension{x.ob, x.kv} }

// collectors are the extensions' metrics.
func (x *extensions) collectors() []prometheus.Collector {
	return []prometheus.Collector{x.ob.Collector(), x.kv.Collector()}
}

// collector is the extensions' metrics as one collector.
func (x *extensions) collector() prometheus.Collector { return collectors(x.collectors()) }

// collectors are several collectors as one.
type collectors []prometheus.Collector

func (cs collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

func (cs collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}

// ready is the extensions' part of /readyz: every Redis store answers.
func (x *extensions) ready(ctx context.Context) error { return x.kv.Ready(ctx) }

// Close closes them all.
func (x *extensions) Close(ctx context.Context) error {
	return errors.Join(x.ob.Close(ctx), x.kv.Close(ctx))
}
