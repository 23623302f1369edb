package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/host"
	"github.com/wasmserve/wasmserve/host/apps"
	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/suggest"
)

// applyServerTable sets every serve flag of the manifest's [server] table
// that neither the command line nor the environment set: a flag given
// there wins.
func applyServerTable(c *cli.Context, path string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("manifest %s: no such file (check the path)", path)
		}
		return fmt.Errorf("manifest %s: %w", path, err)
	}
	lines, err := scanManifest(path, doc)
	if err != nil {
		return err
	}
	m, err := decodeManifest(path, doc)
	if err != nil {
		return err
	}
	var keys map[string]int
	if l := lines["server"]; len(l) > 0 {
		keys = l[0]
	}
	var names []string
	for _, f := range serveFlags() {
		names = append(names, f.Names()[0])
	}
	dir := manifestDir(path)
	for _, k := range sortedKeys(m.Server) {
		if !slices.Contains(names, k) {
			msg := fmt.Sprintf("[server]: unknown key %q", k)
			if near := suggest.Nearest(k, names); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			} else {
				msg += " ([server] takes the serve flags by their long names: 'wasmserve serve --help')"
			}
			return manifestError(path, keys[k], "%s", msg)
		}
		if c.IsSet(k) || !definesFlag(c, k) {
			// Given on the command line; or meaningless to this
			// command (test has no listener).
			continue
		}
		vals, err := flagValues(m.Server[k])
		if err != nil {
			return manifestError(path, keys[k], "[server]: %s: %v", k, err)
		}
		for _, v := range vals {
			if pathFlags[k] {
				v = relativePath(dir, k, v)
			}
			if err := c.Set(k, v); err != nil {
				return manifestError(path, keys[k], "[server]: %s = %q: %s", k, v, valueForm(serveFlags(), k, err.Error()))
			}
		}
	}
	return nil
}

// definesFlag says whether the command of c has the flag name.
func definesFlag(c *cli.Context, name string) bool {
	if c.Command == nil {
		return true
	}
	for _, f := range c.Command.Flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
}

// testManifest starts a manifest's apps as serve would, logging to memory,
// for wasmserve test.
func testManifest(ctx context.Context, c *cli.Context, path string) (*apps.Set, *syncBuffer, error) {
	if err := applyServerTable(c, path); err != nil {
		return nil, nil, err
	}
	m, err := readManifest(c, path)
	if err != nil {
		return nil, nil, err
	}
	logs := &syncBuffer{}
	_, logger, err := newLogger(logs, c.String("log-level"), c.String("log-format"))
	if err != nil {
		return nil, nil, err
	}
	set := apps.NewSet(apps.Options{Logger: logger})
	if _, err := set.Apply(ctx, m.specs(logger, nil)); err != nil {
		set.Close(context.Background())
		return nil, nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	return set, logs, nil
}

// moduleApp is a module app's handler with the extensions made for it,
// closed with it.
type moduleApp struct {
	*host.Handler
	exts    *extensions
	release func()
}

// Close drains the handler, then closes its extension and drops its
// metrics.
func (a *moduleApp) Close(ctx context.Context) error {
	err := a.Handler.Close(ctx)
	a.exts.Close(ctx)
	a.release()
	return err
}

// appCollectors keeps one extensions' collector registered per app name: a
// replaced app's new handler takes the name over.
type appCollectors struct {
	mu  sync.Mutex
	reg *prometheus.Registry
	cur map[string]prometheus.Collector
}

// set registers col as app's, in place of the one before; the returned
// func unregisters it unless another took its place since.
func (ac *appCollectors) set(app string, col prometheus.Collector) func() {
	if ac == nil {
		return func() {}
	}
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if prev := ac.cur[app]; prev != nil {
		ac.reg.Unregister(prev)
	}
	ac.reg.MustRegister(col)
	ac.cur[app] = col
	return func() {
		ac.mu.Lock()
		defer ac.mu.Unlock()
		if ac.cur[app] == col {
			ac.reg.Unregister(col)
			delete(ac.cur, app)
		}
	}
}

// specs are the manifest's apps for apps.Set.Apply: each module app logs
// with its name, and its outbound calls are counted under it.
func (m *manifest) specs(logger *slog.Logger, cols *appCollectors) []apps.Spec {
	var specs []apps.Spec
	for _, a := range m.apps {
		sp := apps.Spec{Name: a.name, Kind: a.kind, Routes: a.routes, Config: a.config, Module: a.wasm}
		switch a.kind {
		case apps.KindStatic:
			cfg := a.static
			sp.New = func(context.Context, []byte) (apps.Handler, error) { return apps.NewStatic(cfg) }
		default:
			sp.New = func(ctx context.Context, wasm []byte) (apps.Handler, error) {
				hc, exts, err := a.mc.handler(logger.With("app", a.name))
				if err != nil {
					return nil, err
				}
				h, err := host.NewHandler(ctx, wasm, hc)
				if err != nil {
					exts.Close(ctx)
					logger.Debug("module failed to start", "app", a.name, "module", a.module, "err", err)
					return nil, fmt.Errorf("module %s: %s", a.module, firstLine(err.Error()))
				}
				release := cols.set(a.name, prometheus.WrapCollectorWith(prometheus.Labels{"app": a.name}, exts.collector()))
				return &moduleApp{Handler: h, exts: exts, release: release}, nil
			}
		}
		specs = append(specs, sp)
	}
	return specs
}

// files are the files a --watch polls: the manifest, and every module.
func (m *manifest) files() []string {
	files := []string{m.path}
	for _, a := range m.apps {
		if a.module != "" {
			files = append(files, a.module)
		}
	}
	return files
}

// serveManifest is serve for a manifest: every app of it on one listener.
func serveManifest(ctx context.Context, c *cli.Context, path string) error {
	if err := applyServerTable(c, path); err != nil {
		return err
	}
	if c.String("guest-profile") != "" || c.Bool("guest-profiling") {
		return errors.New("--guest-profile and --guest-profiling profile one module: serve the app's module alone to profile it")
	}
	m, err := readManifest(c, path)
	if err != nil {
		return err
	}
	lc, charm, logger, err := serverConfig(c)
	if err != nil {
		return err
	}
	defer startGCFloor(c)()
	flushAccess := accessLog(c, &lc)
	defer flushAccess()
	var cols *appCollectors
	if c.String("admin") != "" {
		lc.Metrics = observe.NewAppMetrics()
		lc.Metrics.BuildInfo(buildInfo())
		cols = &appCollectors{reg: lc.Metrics.Registry(), cur: map[string]prometheus.Collector{}}
	}
	tp, stopTracing, err := tracerProvider(c)
	if err != nil {
		return err
	}
	defer stopTracing()
	if tp != nil {
		lc.Tracer = tp
	}

	if d := c.Duration("idle-app-timeout"); d < 0 {
		return fmt.Errorf("--idle-app-timeout must be 0 (never) or more, got %s", d)
	}
	set := apps.NewSet(apps.Options{Logger: logger, Lazy: c.Bool("lazy"), IdleTimeout: c.Duration("idle-app-timeout")})
	start := time.Now()
	if _, err := set.Apply(ctx, m.specs(logger, cols)); err != nil {
		set.Close(context.Background())
		if ierr := interrupted(ctx, "starting the apps of "+path); ierr != nil {
			return ierr
		}
		return fmt.Errorf("manifest %s: %w", path, err)
	}
	took := time.Since(start)
	closeSet := true
	defer func() {
		if closeSet {
			set.Close(context.Background())
		}
	}()
	srv := server.NewServer(lc, set)
	if lc.Metrics != nil {
		lc.Metrics.CollectApps(set.AppStats)
	}
	// A reload re-reads the manifest and its modules; one that does not
	// read or validate leaves the apps as they are.
	var reloadMu sync.Mutex
	reloadManifest := func() error {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		next, err := readManifest(c, path)
		if err != nil {
			return fmt.Errorf("%w (the running apps keep serving)", err)
		}
		if next.server != m.server {
			charm.Warn("the [server] table changed: it is read at start only; restart to apply it")
		}
		ch, err := set.Apply(ctx, next.specs(logger, cols))
		m = next
		if err == nil || len(ch.Added)+len(ch.Replaced)+len(ch.Reloaded)+len(ch.Removed)+len(ch.Unchanged) > 0 {
			charm.Info("manifest applied", "added", ch.Added, "replaced", ch.Replaced, "reloaded", ch.Reloaded,
				"removed", ch.Removed, "unchanged", len(ch.Unchanged))
		}
		return err
	}
	reloaders := []reloader{{"manifest", reloadManifest}}
	if lc.TLS != nil {
		reloaders = append(reloaders, reloader{"TLS certificate", srv.ReloadTLS})
	}
	defer reloadOnSIGHUP(charm, reloaders)()
	if c.Bool("watch") {
		wctx, cancel := context.WithCancel(ctx)
		watched := make(chan struct{})
		files := func() []string {
			reloadMu.Lock()
			defer reloadMu.Unlock()
			return m.files()
		}
		go func() {
			defer close(watched)
			watchFiles(wctx, files, time.Second, func() {
				if err := reloadManifest(); err != nil {
					charm.Error("--watch: reload failed", "err", err)
				}
			})
		}()
		defer func() { cancel(); <-watched }()
	}

	if err := srv.Listen(ctx); err != nil {
		return err
	}
	var admin *observe.Admin
	if addr := c.String("admin"); addr != "" {
		admin, err = observe.NewAdmin(observe.AdminConfig{Address: addr, Server: srv, Handler: set, Apps: set,
			Metrics: lc.Metrics, Logger: logger})
		if err != nil {
			srv.Close()
			return fmt.Errorf("--admin: %w", err)
		}
		go admin.Serve()
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			admin.Close(ctx)
		}()
	}
	if !c.Bool("no-banner") {
		appsBanner(charm, m, set, took)
	}
	if !c.Bool("no-url") {
		logURLs(charm, srv, admin, "/metrics /healthz /readyz /debug/apps /debug/pprof/ /debug/connections")
	}
	err = serveUntilDone(ctx, c, charm, srv, set, flushAccess)
	closeSet = err == nil
	return err
}

// appsBanner logs a line per app, then how long they took to start.
func appsBanner(charm *log.Logger, m *manifest, set *apps.Set, took time.Duration) {
	for _, a := range m.apps {
		var routes []string
		for _, r := range a.routes {
			routes = append(routes, r.String())
		}
		kv := []any{"app", a.name, "routes", strings.Join(routes, " ")}
		if app := set.App(a.name); app != nil && a.kind == apps.KindModule {
			kv = append(kv, "module", a.module)
			if h, ok := app.Handler().(*moduleApp); ok {
				abi, _, _ := h.ABI()
				kv = append(kv, "abi", abi, "isolates", h.Pool().Size())
			} else if h, ok := app.Handler().(interface{ Warm() bool }); ok && !h.Warm() {
				kv = append(kv, "started", "on its first request")
			}
		}
		if a.kind == apps.KindStatic {
			kv = append(kv, "dir", a.static.Dir)
		}
		charm.Info(a.kind, kv...)
	}
	charm.Info("apps started", "manifest", m.path, "apps", len(m.apps), "took", took.Round(time.Millisecond))
}

// watchFiles polls the files every interval until ctx is done, and calls
// reload once when any of them changed (its modification time or size),
// appeared or went away.
func watchFiles(ctx context.Context, files func() []string, interval time.Duration, reload func()) {
	type stamp struct {
		mod  time.Time
		size int64
		ok   bool
	}
	stamps := func() map[string]stamp {
		out := map[string]stamp{}
		for _, f := range files() {
			fi, err := os.Stat(f)
			if err != nil {
				out[f] = stamp{}
				continue
			}
			out[f] = stamp{fi.ModTime(), fi.Size(), true}
		}
		return out
	}
	last := stamps()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := stamps()
		changed := len(now) != len(last)
		for f, s := range now {
			if last[f] != s {
				changed = true
			}
		}
		if changed {
			// The stamps read before the reload: a file changed
			// while it ran is seen at the next poll.
			last = now
			reload()
		}
	}
}
