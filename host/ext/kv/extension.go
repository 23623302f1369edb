// Package kv is the host extension of guests' key-value stores: the
// wasmserve_kv import module (docs/kv.md) over the stores the server
// configures by name, each a [Store] opened from a URL (mem:, file:PATH,
// redis://host:port/db), with a bound on values, a quota of keys per store,
// a deadline per operation, and metrics per store.
//
// The package is the host side of wasmserve_kv, whose contract (names,
// codes, the table of functions and signatures) is package abi/kv. Deny by
// default: a guest reaches only the stores configured, by name, and an open
// of any other name fails with CodeNoStore.
package kv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	contract "github.com/wasmserve/wasmserve/abi/kv"
	"github.com/wasmserve/wasmserve/host/ext"
)

// Defaults of a Config's zero values.
const (
	// DefaultMaxValue is the largest value a guest may store: 1 MiB.
	DefaultMaxValue = 1 << 20
	// DefaultTimeout bounds one operation on a Redis store, within what
	// is left of the handler timeout.
	DefaultTimeout = 5 * time.Second
)

// StoreConfig names one store and says where it is.
type StoreConfig struct {
	// Name is what guests open it by.
	Name string
	// URL is the store's URL, as [Open] takes it.
	URL string
}

// Config configures the extension. The zero value offers no store: every
// open fails with CodeNoStore.
type Config struct {
	// Stores are the stores guests may open, by name.
	Stores []StoreConfig
	// MaxValue bounds a value in bytes; 0 means DefaultMaxValue.
	MaxValue int64
	// MaxKeys bounds the keys of each store; 0 means no bound.
	MaxKeys int
	// Timeout bounds one operation on a Redis store (and its connection
	// attempts); 0 means DefaultTimeout. The request's deadline bounds
	// it too, and every operation of a local store.
	Timeout time.Duration
}

// namePattern is what a store's name may be.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ParseStore parses NAME=URL, the form of the command's --kv-store.
func ParseStore(s string) (StoreConfig, error) {
	name, u, ok := strings.Cut(s, "=")
	if !ok || u == "" {
		return StoreConfig{}, fmt.Errorf("%q: want NAME=URL (default=file:kv.db, cache=redis://127.0.0.1:6379/0, test=mem:)", s)
	}
	if !namePattern.MatchString(name) {
		return StoreConfig{}, fmt.Errorf("%q: a store name is 1 to 64 letters, digits, '.', '_' or '-', from a letter or digit", name)
	}
	return StoreConfig{Name: name, URL: u}, nil
}

// Extension offers wasmserve_kv to the guests of a handler. It implements
// ext.Extension.
type Extension struct {
	stores   []*store // handle i+1
	byName   map[string]int32
	maxValue int64
	timeout  time.Duration
	logger   *slog.Logger
	metrics  *metrics

	mods sync.Map // api.Module → *state: bound isolates not yet closed
}

var _ ext.Extension = (*Extension)(nil)

// store is one configured store and its metrics.
type store struct {
	name   string
	url    string // redacted
	s      Store
	remote bool // its operations wait on the network
	m      storeMetrics
}

// New opens the stores of cfg and returns the extension; logger receives
// its messages (nil discards). A store that fails to open fails New,
// closing those it opened; a Redis store opens even while its server is
// down (see Ready).
func New(cfg Config, logger *slog.Logger) (*Extension, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxValue < 0 || cfg.MaxKeys < 0 || cfg.Timeout < 0 {
		return nil, errors.New("kv config: MaxValue, MaxKeys and Timeout must be 0 or more")
	}
	e := &Extension{byName: map[string]int32{}, maxValue: cfg.MaxValue, timeout: cfg.Timeout, logger: logger, metrics: newMetrics()}
	if e.maxValue == 0 {
		e.maxValue = DefaultMaxValue
	}
	if e.timeout == 0 {
		e.timeout = DefaultTimeout
	}
	for _, sc := range cfg.Stores {
		if !namePattern.MatchString(sc.Name) {
			e.Close(context.Background())
			return nil, fmt.Errorf("kv store %q: invalid name", sc.Name)
		}
		if _, dup := e.byName[sc.Name]; dup {
			e.Close(context.Background())
			return nil, fmt.Errorf("kv store %q is configured twice", sc.Name)
		}
		s, err := Open(sc.URL, Options{MaxKeys: cfg.MaxKeys, Timeout: e.timeout})
		if err != nil {
			e.Close(context.Background())
			return nil, fmt.Errorf("kv store %q: %w", sc.Name, err)
		}
		_, remote := s.(*Redis)
		e.stores = append(e.stores, &store{name: sc.Name, url: redactURL(sc.URL), s: s, remote: remote, m: e.metrics.forStore(sc.Name)})
		e.byName[sc.Name] = int32(len(e.stores))
	}
	return e, nil
}

// Names returns the names of the configured stores, in order.
func (e *Extension) Names() []string {
	names := make([]string, len(e.stores))
	for i, s := range e.stores {
		names[i] = s.name
	}
	return names
}

// Store returns the configured store named name, or nil.
func (e *Extension) Store(name string) Store {
	if h, ok := e.byName[name]; ok {
		return e.stores[h-1].s
	}
	return nil
}

// readyTimeout bounds Ready's ping of each store.
const readyTimeout = time.Second

// Ready checks that every store answers, pinging the Redis ones (within a
// second each); its error names the first that does not. It is what the
// admin /readyz asks.
func (e *Extension) Ready(ctx context.Context) error {
	for _, s := range e.stores {
		if !s.remote {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, readyTimeout)
		err := s.s.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("kv store %q (%s) unreachable: %v", s.name, s.url, err)
		}
	}
	return nil
}

// ModuleName is wasmserve_kv.
func (e *Extension) ModuleName() string { return contract.ModuleName }

// Validate checks cm's imports of wasmserve_kv.
func (e *Extension) Validate(cm wazero.CompiledModule) error { return Validate(cm) }

// CheckImport checks one import of wasmserve_kv.
func (e *Extension) CheckImport(name string, params, results []api.ValueType) error {
	return CheckImport(name, params, results)
}

// ResetSafe is true: a store's handle is the same in every isolate and
// every request, and End drops what a request kept.
func (e *Extension) ResetSafe() bool { return true }

// NewIsolate returns the state of a new isolate.
func (e *Extension) NewIsolate(ctx context.Context, id string) (context.Context, ext.Isolate) {
	st := &state{e: e, id: id}
	return st.context(ctx), st
}

// Close closes every store.
func (e *Extension) Close(context.Context) error {
	var errs []error
	for _, s := range e.stores {
		if err := s.s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("kv store %q: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}

// Collector exposes the stores' metrics (wasmserve_kv_operations_total and
// the rest).
func (e *Extension) Collector() prometheus.Collector { return e.metrics }

// CheckImport says why an import of the function name of wasmserve_kv
// with these types does not fit the contract's table; nil when it does.
func CheckImport(name string, params, results []api.ValueType) error {
	want, ok := contract.Functions.Lookup(name)
	switch {
	case !ok:
		return fmt.Errorf("%s does not define %s (see docs/kv.md)", contract.ModuleName, name)
	case !want.Match(params, results):
		return fmt.Errorf("wrong signature: want %s", want.Signature)
	}
	return nil
}

// Validate checks that every function cm imports from wasmserve_kv is in
// the contract's table with the signature it expects. The error names the
// first that is not.
func Validate(cm wazero.CompiledModule) error {
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != contract.ModuleName {
			continue
		}
		if err := CheckImport(name, f.ParamTypes(), f.ResultTypes()); err != nil {
			return fmt.Errorf("module imports %s.%s: %w", mod, name, err)
		}
	}
	return nil
}
