// Package httpwasm is the executor of the http-wasm handler ABI: the
// default, for a module that imports http_handler or exports
// handle_request. Its guests may return next=1 to have the request served
// by the next handler — in wasmserve the reverse proxy of middleware mode
// (proxy.go), else a 404 — and see its response in handle_response.
//
// The package is the host side of the http_handler import module, whose
// contract (names, encodings, the table of functions and signatures) is
// package abi: a [Host] per handler defines the module in each runtime, a
// [Guest] per isolate serves its requests (guest.go, headers.go, next.go),
// and [Inspect] and [Validate] check a compiled module against the contract.
package httpwasm

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// Title names the executor for people.
const Title = "http-wasm handler"

// Config configures the http-wasm executor. The zero value is valid: an
// empty guest config, no upstream (next=1 answers 404), and the buffered
// body bound of MaxBufferedBody's zero value.
type Config struct {
	// GuestConfig is what get_config returns to the guest.
	GuestConfig []byte
	// Upstream is the origin a request goes to when the guest returns
	// next=1 (middleware mode), an http or https URL; empty answers 404.
	Upstream string
	// UpstreamMaxIdle and UpstreamTimeout tune the proxy to Upstream:
	// see ProxyConfig's MaxIdle and Timeout, whose zero values they
	// share.
	UpstreamMaxIdle int
	// UpstreamTimeout: see UpstreamMaxIdle.
	UpstreamTimeout time.Duration
	// MaxBufferedBody bounds an upstream response body held for a guest
	// with the buffer_response feature; 0 means the handler's body limit
	// when it has one, else DefaultMaxBufferedBody.
	MaxBufferedBody int64
}

// Validate checks cfg without making anything, for a configuration read
// before a handler is made.
func (cfg Config) Validate() error {
	if cfg.UpstreamMaxIdle < 0 || cfg.UpstreamTimeout < 0 || cfg.MaxBufferedBody < 0 {
		return errors.New("upstream idle connections, upstream timeout and buffered body bound must not be negative")
	}
	if cfg.Upstream != "" {
		if _, err := ParseUpstream(cfg.Upstream); err != nil {
			return err
		}
	}
	return nil
}

// Kind returns the executor's kind with cfg.
func Kind(cfg Config) executor.Kind {
	return executor.Kind{
		Name:  "http-wasm",
		Title: Title,
		Detect: func(s runtimepool.Shape) (string, bool) {
			switch {
			case s.Imports(abi.ModuleName):
				return "it imports " + abi.ModuleName, true
			case s.Exports(abi.ExportHandleRequest):
				return "it exports " + abi.ExportHandleRequest, true
			}
			return "", false
		},
		Inspect: Inspect,
		New:     func(env executor.Env) (executor.Executor, error) { return New(cfg, env) },
	}
}

// UpstreamIsolatesPerCPU is how many isolates per CPU the executor asks
// for in middleware mode, when the handler's configuration leaves the pool
// size to it. A guest there holds its isolate while the upstream answers, a
// wait that costs no CPU: one isolate per CPU left a pass-through guest at
// 0.88x a native reverse proxy's req/s with 16 clients on 2 CPUs, since
// requests queued for an isolate while the CPUs idled; four per CPU matched
// it (BENCHMARKS.md).
const UpstreamIsolatesPerCPU = 4

// DefaultIsolates is the pool size the executor asks for: one isolate per
// CPU, or UpstreamIsolatesPerCPU per CPU with an upstream.
func DefaultIsolates(upstream bool) int {
	if upstream {
		return UpstreamIsolatesPerCPU * runtime.NumCPU()
	}
	return runtime.NumCPU()
}

// httpWasm is the executor: one Host for the handler, and a Guest for every
// isolate.
type httpWasm struct {
	host     *Host
	upstream bool
	exts     []executor.ImportChecker
}

// New returns the http-wasm executor of cfg for env.
func New(cfg Config, env executor.Env) (executor.Executor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out := env.Output
	x := &httpWasm{upstream: cfg.Upstream != "", exts: env.Extensions, host: &Host{Logger: env.Logger, Config: cfg.GuestConfig, MaxBufferedBody: cfg.MaxBufferedBody,
		LogAllow: out.Allow}} // log() shares the guest output rate with stdout and stderr
	if x.host.MaxBufferedBody == 0 {
		x.host.MaxBufferedBody = env.MaxBody
	}
	if cfg.Upstream != "" {
		u, err := ParseUpstream(cfg.Upstream)
		if err != nil {
			return nil, err
		}
		logger := env.Logger
		if logger == nil {
			logger = slog.New(slog.DiscardHandler)
		}
		x.host.Next = NewProxy(u, ProxyConfig{MaxIdle: cfg.UpstreamMaxIdle, Timeout: cfg.UpstreamTimeout, Logger: logger})
	}
	return x, nil
}

func (x *httpWasm) Pool() executor.PoolSpec {
	return executor.PoolSpec{
		Installers: []runtimepool.Installer{x.host.Install},
		Validate:   func(cm wazero.CompiledModule) error { return Validate(cm, x.exts) },
		// The ABI's per-request state is reset by every request; what
		// the start function sets (enable_features) does not change
		// afterwards.
		ResetSafeImports: []string{abi.ModuleName},
		IsolatesPerCPU:   DefaultIsolates(x.upstream) / runtime.NumCPU(),
	}
}

func (x *httpWasm) NewInstance(ctx context.Context, id string) (context.Context, executor.Instance) {
	g := x.host.NewGuest(id)
	return g.Context(ctx), &Instance{g: g}
}

// Instance is the executor's state of one isolate: its Guest.
type Instance struct{ g *Guest }

// Guest returns the isolate's guest, for tests and tools that look inside.
func (in *Instance) Guest() *Guest { return in.g }

// Bind attaches the instantiated module.
func (in *Instance) Bind(mod api.Module) error { return in.g.Bind(mod) }

// Handle serves r with the guest, and says how the request ended: a body
// the client could not send is its fault; any other error, the guest's.
func (in *Instance) Handle(ctx context.Context, w http.ResponseWriter, r *http.Request) executor.Outcome {
	err := in.g.Handle(ctx, w, r)
	if err == nil {
		return executor.Outcome{}
	}
	var be *BodyError
	if errors.As(err, &be) {
		return executor.Outcome{ClientErr: be.Err, Committed: be.Committed}
	}
	var ge *GuestError
	return executor.Outcome{Err: err, Committed: errors.As(err, &ge) && ge.Committed}
}
