package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/host"
	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/executor/cgi"
	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/host/executor/wasihttp"
	"github.com/wasmserve/wasmserve/host/ext/kv"
	"github.com/wasmserve/wasmserve/host/ext/kv/wasikv"
	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/accesslog"
	"github.com/wasmserve/wasmserve/internal/atomicfile"
	"github.com/wasmserve/wasmserve/internal/gcfloor"
	"github.com/wasmserve/wasmserve/internal/prefault"
)

func defaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "wasmserve")
}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:         "serve",
		Usage:        "serve MODULE.wasm over HTTP",
		ArgsUsage:    "MODULE.wasm",
		Flags:        serveFlags(),
		OnUsageError: usageError("wasmserve serve"),
		Action:       serve,
	}
}

// readModule reads a module file and checks that it is WebAssembly at all,
// so that the common mistakes get a message that names the file.
func readModule(path string) ([]byte, error) {
	wasm, err := prefault.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("module %s: no such file (check the path)", path)
	case err != nil:
		return nil, fmt.Errorf("module %s: %w", path, err)
	case !bytes.HasPrefix(wasm, []byte("\x00asm")):
		return nil, fmt.Errorf("module %s is not a WebAssembly binary (it does not begin with \\0asm); build one with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared", path)
	}
	return wasm, nil
}

// warmHeapCap bounds the heap warmStart readies.
const warmHeapCap = 256 << 20

// warmStart readies the Go heap for starting the module at path with the
// given number of isolates (0: one per CPU), with prefault.WarmHeap; call
// done once the handler is made. A start-up allocates about five times the
// module's size for compiling and the first isolate (the Go hello guest:
// 25.8 MB for 5.4 MB, BenchmarkReloadGo) and 0.34 MB for each other
// isolate (BenchmarkHelloGoFresh), whose linear memory is a mapping outside
// the heap (it was twice the module's size while memories were Go slices),
// so it readies that and half a MiB an isolate, up to warmHeapCap. A small module needs no warm-up.
func warmStart(path string, isolates int, upstream bool) (done func()) {
	st, err := os.Stat(path)
	if err != nil {
		return func() {}
	}
	if isolates == 0 {
		isolates = httpwasm.DefaultIsolates(upstream)
	}
	return prefault.WarmHeap(int(min(st.Size()*5+int64(isolates)<<19, warmHeapCap)))
}

// moduleConfig is what the flags say of the module and how it is run: the
// handler's own configuration, and the configurations of the executors and
// extensions the command registers.
type moduleConfig struct {
	hc host.HandlerConfig
	hw httpwasm.Config
	oc outbound.Config
	kc kv.Config
}

// handler returns the handler's configuration with the executors and
// extensions registered, logging to logger, and the extensions for their
// metrics, readiness and closing.
func (m *moduleConfig) handler(logger *slog.Logger) (host.HandlerConfig, *extensions, error) {
	hc := m.hc
	hc.Logger = logger
	exts, err := newExtensions(m, logger)
	if err != nil {
		return hc, nil, err
	}
	// Components call out through the outbound extension's policy, its
	// caps and its metrics, and reach the same key-value stores.
	hc.Executors = []executor.Kind{httpwasm.Kind(m.hw), cgi.Kind, wasihttp.Kind(wasihttp.KindConfig{Outbound: exts.ob.Host(), KeyValue: wasikv.Definer(exts.kv)})}
	hc.Extensions = exts.list()
	return hc, exts, nil
}

// handlerConfig reads and validates the pool, module and limit flags.
func handlerConfig(c *cli.Context) (moduleConfig, error) {
	var mc moduleConfig
	hc := &mc.hc
	if n := c.Int("isolates"); n < 0 {
		return mc, fmt.Errorf("--isolates must be 0 (one per CPU) or more, got %d", n)
	}
	memLimit, err := parseSize(c.String("memory-limit"))
	if err != nil {
		return mc, fmt.Errorf("--memory-limit: %w", err)
	}
	if memLimit < 1<<16 {
		return mc, fmt.Errorf("--memory-limit %s is below one 64 KiB WebAssembly page (a size takes a unit: 64MiB, 1GiB)", c.String("memory-limit"))
	}
	if memLimit > 1<<32 {
		return mc, fmt.Errorf("--memory-limit %s is above the 4 GiB a 32-bit WebAssembly memory can address", c.String("memory-limit"))
	}
	maxBody, err := parseSize(c.String("max-body"))
	if err != nil {
		return mc, fmt.Errorf("--max-body: %w", err)
	}
	for _, name := range []string{"handler-timeout", "queue-timeout", "read-timeout", "write-timeout"} {
		if d := c.Duration(name); d < 0 {
			return mc, fmt.Errorf("--%s must be 0 or more, got %s", name, d)
		}
	}
	for _, name := range []string{"max-queue", "max-requests-per-isolate"} {
		if n := c.Int(name); n < 0 {
			return mc, fmt.Errorf("--%s must be 0 or more, got %d", name, n)
		}
	}
	for _, s := range *c.Generic("dir").(*repeated) {
		d, err := host.ParseDir(s)
		if err != nil {
			return mc, fmt.Errorf("--dir: %w", err)
		}
		hc.Dirs = append(hc.Dirs, d)
	}
	for _, s := range *c.Generic("env").(*repeated) {
		kv, err := host.ParseEnv(s)
		if err != nil {
			return mc, fmt.Errorf("--env: %w", err)
		}
		hc.Env = append(hc.Env, kv)
	}
	hc.Isolates = c.Int("isolates")
	hc.MemoryLimit = memLimit
	hc.MaxBody = int64(maxBody)
	hc.HandlerTimeout = c.Duration("handler-timeout")
	hc.ReadTimeout = c.Duration("read-timeout")
	hc.WriteTimeout = c.Duration("write-timeout")
	hc.QueueTimeout = c.Duration("queue-timeout")
	hc.MaxQueue = c.Int("max-queue")
	hc.MaxRequestsPerIsolate = c.Int("max-requests-per-isolate")
	hc.OutputRate = c.Float64("guest-output-rate")
	if hc.OutputRate == 0 {
		hc.OutputRate = host.NoOutputLimit // the flag's 0; the library's 0 is the default
	}
	if !c.Bool("no-cache") {
		hc.CacheDir = c.String("cache-dir")
	}
	if err := guestConfig(c, &mc); err != nil {
		return mc, err
	}
	hc.GuestProfiler = c.Bool("guest-profiling") || c.String("guest-profile") != ""
	if err := outboundConfig(c, &mc.oc); err != nil {
		return mc, err
	}
	if err := kvConfig(c, &mc.kc); err != nil {
		return mc, err
	}
	return mc, nil
}

// guestConfig reads --abi, --upstream, --guest-config and
// --guest-config-string.
func guestConfig(c *cli.Context, mc *moduleConfig) error {
	if err := abiConfig(c, &mc.hc); err != nil {
		return err
	}
	hw := &mc.hw
	if u := c.String("upstream"); u != "" {
		if _, err := httpwasm.ParseUpstream(u); err != nil {
			return fmt.Errorf("--upstream: %w", err)
		}
		hw.Upstream = u
	}
	if n := c.Int("upstream-max-idle"); n < 1 {
		return fmt.Errorf("--upstream-max-idle must be 1 or more, got %d", n)
	}
	if d := c.Duration("upstream-timeout"); d <= 0 {
		return fmt.Errorf("--upstream-timeout must be above 0, got %s", d)
	}
	hw.UpstreamMaxIdle, hw.UpstreamTimeout = c.Int("upstream-max-idle"), c.Duration("upstream-timeout")
	file, str := c.String("guest-config"), c.String("guest-config-string")
	switch {
	case c.IsSet("guest-config") && c.IsSet("guest-config-string"):
		return errors.New("--guest-config and --guest-config-string are exclusive: give one")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--guest-config: %w", err)
		}
		hw.GuestConfig = b
	case str != "":
		hw.GuestConfig = []byte(str)
	}
	return nil
}

// abiConfig reads --abi.
func abiConfig(c *cli.Context, hc *host.HandlerConfig) error {
	a := c.String("abi")
	if !slices.Contains(host.ABINames(), a) {
		return fmt.Errorf("--abi %q: want one of %s", a, strings.Join(host.ABINames(), ", "))
	}
	hc.ABI = a
	return nil
}

// serverLimits reads the flags that bound what a client may send.
func serverLimits(c *cli.Context, lc *server.Config) error {
	n, err := parseSize(c.String("max-header-bytes"))
	if err != nil {
		return fmt.Errorf("--max-header-bytes: %w", err)
	}
	if n < 1 || n > 1<<30 {
		return fmt.Errorf("--max-header-bytes %s must be between 1 byte and 1 GiB", c.String("max-header-bytes"))
	}
	if d := c.Duration("read-header-timeout"); d <= 0 {
		return fmt.Errorf("--read-header-timeout must be above 0, got %s", d)
	}
	lc.MaxHeaderBytes = int(n)
	lc.ReadHeaderTimeout = c.Duration("read-header-timeout")
	return nil
}

// responseConfig reads the flags that shape every response and keep-alive.
func responseConfig(c *cli.Context, lc *server.Config) error {
	switch d := c.Duration("idle-timeout"); {
	case d < 0:
		return fmt.Errorf("--idle-timeout must be 0 (net/http's default) or more, got %s", d)
	case d == 0:
		lc.IdleTimeout = server.NetHTTPIdleTimeout // the flag's 0; the library's 0 is the default
	default:
		lc.IdleTimeout = d
	}
	for _, s := range *c.Generic("header").(*repeated) {
		name, value, err := server.ParseHeader(s)
		if err != nil {
			return fmt.Errorf("--header: %w", err)
		}
		if lc.Headers == nil {
			lc.Headers = http.Header{}
		}
		lc.Headers.Add(name, value)
	}
	lc.ServerHeader = c.String("server-header")
	if c.IsSet("compress-min-size") && !c.Bool("compress") {
		return errors.New("--compress-min-size needs --compress")
	}
	if c.Bool("compress") {
		n, err := parseSize(c.String("compress-min-size"))
		if err != nil {
			return fmt.Errorf("--compress-min-size: %w", err)
		}
		if n > 1<<30 {
			return fmt.Errorf("--compress-min-size %s is above 1 GiB", c.String("compress-min-size"))
		}
		lc.Compress = &server.CompressConfig{MinSize: max(int(n), 1)}
	}
	return nil
}

// listenConfig reads the listener flags.
func listenConfig(c *cli.Context) (server.Config, error) {
	cfg := server.Config{
		Address:  c.String("address"),
		Port:     c.Int("port"),
		PortFile: c.String("port-file"),
		Backlog:  c.Int("backlog"),
		V6Only:   c.Bool("v6only"),
		Shared:   c.Bool("shared"),
		ListenFD: c.Int("listen-fd"),
		H2C:      c.Bool("h2c"),
	}
	if cfg.Backlog < 0 {
		return cfg, fmt.Errorf("--backlog must be 0 (the system default) or more, got %d", cfg.Backlog)
	}
	if !c.IsSet("listen-fd") {
		fd, ok, err := server.SystemdListenFD(os.Getenv, os.Getpid())
		if err != nil {
			return cfg, err
		}
		if ok {
			cfg.ListenFD = fd
		}
	} else if cfg.ListenFD < 0 {
		return cfg, fmt.Errorf("--listen-fd must be a file descriptor number, got %d", cfg.ListenFD)
	}
	tc, err := tlsConfig(c)
	if err != nil {
		return cfg, err
	}
	cfg.TLS = tc
	cfg.HTTP3, err = http3Config(c)
	return cfg, err
}

func serve(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("serve takes one module file, got %d arguments (usage: wasmserve serve [flags] MODULE.wasm)", c.NArg())
	}
	path := c.Args().First()
	// SIGINT and SIGTERM are caught from here on: one that comes during
	// start-up stops it where it is, and exits 128 and its number.
	ctx, stop := notifyStop()
	defer stop()
	if isManifest(path) {
		return serveManifest(ctx, c, path)
	} else if err := manifestOnly(c); err != nil {
		return err
	}
	return serveModule(ctx, c, path, nil)
}

// watchFunc watches what a module is made from until ctx is done, and calls
// reload, which reports its own failures, when it changed. charm is the
// command's logger.
type watchFunc func(ctx context.Context, charm *log.Logger, reload func() error)

// serverConfig reads the listener, limit and response flags, and makes the
// command's loggers; serving a module and serving a manifest share it.
func serverConfig(c *cli.Context) (server.Config, *log.Logger, *slog.Logger, error) {
	lc, err := listenConfig(c)
	if err != nil {
		return lc, nil, nil, err
	}
	if err := serverLimits(c, &lc); err != nil {
		return lc, nil, nil, err
	}
	if err := responseConfig(c, &lc); err != nil {
		return lc, nil, nil, err
	}
	if _, err := gcHeapFloor(c); err != nil {
		return lc, nil, nil, err
	}
	charm, logger, err := newLogger(c.App.ErrWriter, c.String("log-level"), c.String("log-format"))
	if err != nil {
		return lc, nil, nil, err
	}
	lc.Logger = logger
	// Libraries that log through the log package or slog's default (quic-go
	// warns there of a UDP buffer it could not enlarge) write in the
	// server's format too.
	slog.SetDefault(logger)
	return lc, charm, logger, nil
}

// gcHeapFloor is --gc-heap-floor in bytes.
func gcHeapFloor(c *cli.Context) (uint64, error) {
	n, err := parseSize(c.String("gc-heap-floor"))
	if err != nil {
		return 0, fmt.Errorf("--gc-heap-floor: %w", err)
	}
	return n, nil
}

// startGCFloor keeps the garbage collector's heap goal at --gc-heap-floor
// (already checked by serverConfig) until the returned stop.
func startGCFloor(c *cli.Context) (stop func()) {
	n, _ := gcHeapFloor(c)
	return gcfloor.Start(n)
}

// accessLog sets lc's access log as the flags say and returns its flush,
// to call before exiting. Always at info level: --log-level quiets the
// server's own lines, --access-log=false the requests.
func accessLog(c *cli.Context, lc *server.Config) (flush func()) {
	if !c.Bool("access-log") {
		return func() {}
	}
	lc.AccessLog, flush = accesslog.New(c.App.ErrWriter, c.String("log-format"))
	return flush
}

// serveModule serves the module at path as the flags of c say, until ctx
// (from notifyStop) is done. watch, when not nil, replaces --watch's polling
// of the module file.
func serveModule(ctx context.Context, c *cli.Context, path string, watch watchFunc) error {
	mc, err := handlerConfig(c)
	if err != nil {
		return err
	}
	lc, charm, logger, err := serverConfig(c)
	if err != nil {
		return err
	}
	hc, exts, err := mc.handler(logger)
	if err != nil {
		return err
	}
	defer exts.Close(context.Background()) // after the handler: deferred first, runs last
	flushAccess := accessLog(c, &lc)
	defer flushAccess()
	if c.String("admin") != "" {
		lc.Metrics = observe.NewMetrics()
		lc.Metrics.BuildInfo(buildInfo())
	}
	tp, stopTracing, err := tracerProvider(c)
	if err != nil {
		return err
	}
	defer stopTracing()
	if tp != nil {
		lc.Tracer = tp
	}
	warm := warmStart(path, hc.Isolates, mc.hw.Upstream != "")
	defer warm()
	wasm, err := readModule(path)
	if err != nil {
		return err
	}
	if err := interrupted(ctx, "reading the module"); err != nil {
		return err
	}

	handler, err := host.NewHandler(ctx, wasm, hc)
	warm()
	if ctx.Err() != nil {
		if err == nil {
			handler.Close(context.Background())
		}
		during := "starting the isolates of " + path
		if err != nil && strings.Contains(err.Error(), "compiling module: interrupted") {
			during = "compiling " + path
		}
		return interrupted(ctx, during)
	}
	if err != nil {
		// wazero's errors end in a multi-line wasm stack trace: the
		// user gets the first line, --log-level debug gets it all.
		charm.Debug("module failed to start", "module", path, "err", err)
		return fmt.Errorf("module %s: %s", path, firstLine(err.Error()))
	}
	// After the start-up, whose heap warm-up sets the GC percent of its
	// own meanwhile.
	defer startGCFloor(c)()
	closeHandler := true
	defer func() {
		if closeHandler {
			handler.Close(context.Background())
		}
	}()

	if file := c.String("guest-profile"); file != "" {
		defer writeGuestProfile(charm, handler, file)()
	}

	srv := server.NewServer(lc, handler)
	if lc.Metrics != nil {
		lc.Metrics.Collect(handler)
		lc.Metrics.Registry().MustRegister(exts.collectors()...)
	}
	// SIGHUP re-reads what can change under a running server, in order;
	// it is caught from here on so that it never kills the process.
	reloadModule := func() error {
		wasm, err := readModule(path)
		if err != nil {
			return err
		}
		return handler.Reload(ctx, wasm)
	}
	reloaders := []reloader{{"module", reloadModule}}
	if lc.TLS != nil {
		reloaders = append(reloaders, reloader{"TLS certificate", srv.ReloadTLS})
	}
	defer reloadOnSIGHUP(charm, reloaders)()
	if watch == nil && c.Bool("watch") {
		watch = func(ctx context.Context, _ *log.Logger, reload func() error) {
			host.Watch(ctx, path, time.Second, reload, logger)
		}
	}
	if watch != nil {
		wctx, cancel := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() { defer close(watched); watch(wctx, charm, reloadModule) }()
		// Runs before the handler is closed: no reload after that.
		defer func() { cancel(); <-watched }()
	}

	if err := srv.Listen(ctx); err != nil {
		if ierr := interrupted(ctx, "opening the listener"); ierr != nil {
			return ierr
		}
		return err
	}
	var admin *observe.Admin
	if addr := c.String("admin"); addr != "" {
		admin, err = observe.NewAdmin(observe.AdminConfig{Address: addr, Server: srv, Handler: handler,
			Metrics: lc.Metrics, Logger: logger, Checks: []func(context.Context) error{exts.ready}})
		if err != nil {
			srv.Close()
			return fmt.Errorf("--admin: %w", err)
		}
		go admin.Serve()
		// Closed after the drain, so that /readyz answers 503 all
		// through it.
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			admin.Close(ctx)
		}()
	}
	styled := false
	if !c.Bool("no-banner") {
		styled = banner(c, charm, bannerFacts{path: path, wasm: wasm, hc: hc, h: handler, srv: srv, admin: admin})
	}
	if !c.Bool("no-url") && !styled {
		logURLs(charm, srv, admin, "/metrics /healthz /readyz /debug/pprof/ /debug/connections")
	}
	err = serveUntilDone(ctx, c, charm, srv, handler, flushAccess)
	// After a forced or overrun shutdown guests may still be running:
	// waiting for them to close the pool could take for ever.
	closeHandler = err == nil
	return err
}

// logURLs logs where srv answers: its URLs, HTTP/3's UDP address, and the
// admin listener with the paths it serves.
func logURLs(charm *log.Logger, srv *server.Server, admin *observe.Admin, adminPaths string) {
	charm.Info("listening on " + strings.Join(srv.URLs(), " "))
	if a := srv.HTTP3Addr(); a != nil {
		charm.Info("HTTP/3 on UDP " + a.String())
	}
	if admin != nil {
		charm.Info("admin on " + admin.URL() + " (" + adminPaths + ")")
	}
}

// serveUntilDone serves srv until it fails or ctx is done, then shuts it
// and handler down (see shutdown).
func serveUntilDone(ctx context.Context, c *cli.Context, charm *log.Logger, srv *server.Server, handler interface {
	Interrupt()
	Close(context.Context) error
}, flushAccess func()) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return shutdown(charm, srv, handler, c.Duration("grace"), c.String("log-format"), flushAccess)
}

// writeGuestProfile starts the profile of --guest-profile; the returned
// func writes it to file, at shutdown.
func writeGuestProfile(charm *log.Logger, h *host.Handler, file string) func() {
	stop, err := h.StartGuestProfile()
	if err != nil {
		charm.Error("guest profile", "err", err)
		return func() {}
	}
	return func() {
		var buf bytes.Buffer
		if err := stop().Write(&buf); err == nil {
			err = atomicfile.Write(file, 0o644, buf.Bytes())
		}
		if err != nil {
			charm.Error("writing the guest profile", "file", file, "err", err)
			return
		}
		charm.Info("guest profile written; view it with go tool pprof", "file", file)
	}
}

// firstLine returns s up to its first line break.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i]) + " (--log-level debug shows the wasm stack trace)"
	}
	return s
}

// shutdown drains the server after the first signal: it stops accepting,
// closes idle connections and waits up to grace for requests in flight, then
// closes the isolate pool. A second signal, or the grace running out,
// interrupts the guests still running and exits 1. Guests are interruptible
// only with a --handler-timeout; without one a running guest is ended by the
// process exiting. The access log's last lines are written before
// "stopped", once no request is left to log.
func shutdown(charm *log.Logger, srv *server.Server, handler interface {
	Interrupt()
	Close(context.Context) error
}, grace time.Duration, format string, flushAccess func()) error {
	force := make(chan os.Signal, 1)
	signal.Notify(force, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(force)
	charm.Info("shutting down; a second signal forces", "grace", logDuration(format, grace))
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			handler.Interrupt()
			srv.Close()
			return &exitError{code: 1, err: fmt.Errorf("shutdown: requests still running after --grace %s were cut off", grace)}
		}
	case <-force:
		handler.Interrupt()
		srv.Close()
		return &exitError{code: 1, err: errors.New("forced shutdown: requests in flight were cut off")}
	}
	if err := handler.Close(ctx); err != nil {
		charm.Warn("closing the isolate pool", "err", err)
	}
	flushAccess()
	charm.Info("stopped")
	return nil
}
