package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/host"
)

// env returns the environment variable that also sets flag name:
// WASMSERVE_ and the name upper-cased with dashes as underscores.
func env(name string) []string {
	return []string{"WASMSERVE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
}

func serveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "address", Aliases: []string{"a"}, Value: "localhost", EnvVars: env("address"),
			Usage: "IP address, host name, or any|any4|any6|loopback|loopback6"},
		&cli.IntFlag{Name: "port", Aliases: []string{"p"}, Value: 8080, EnvVars: env("port"),
			Usage: "TCP port; 0 picks a free one"},
		&cli.StringFlag{Name: "port-file", EnvVars: env("port-file"),
			Usage: "write the bound port to this file once listening"},
		&cli.IntFlag{Name: "isolates", Value: 0, EnvVars: env("isolates"),
			Usage: "pooled module instances; 0 = one per CPU"},
		&cli.StringFlag{Name: "memory-limit", Value: "128MiB", EnvVars: env("memory-limit"),
			Usage: "linear memory limit per isolate"},
		&cli.StringFlag{Name: "cache-dir", Value: defaultCacheDir(), EnvVars: env("cache-dir"),
			Usage: "compilation cache directory"},
		&cli.BoolFlag{Name: "no-cache", EnvVars: env("no-cache"),
			Usage: "compile without the on-disk cache"},
		&cli.DurationFlag{Name: "grace", Value: 30 * time.Second, EnvVars: env("grace"),
			Usage: "how long shutdown waits for requests in flight"},
		&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: env("log-level"),
			Usage: "debug, info, warn or error"},
		&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: env("log-format"),
			Usage: "text, json or logfmt"},
		&cli.BoolFlag{Name: "no-banner", EnvVars: env("no-banner"),
			Usage: "do not log the start-up banner"},
		&cli.BoolFlag{Name: "no-url", EnvVars: env("no-url"),
			Usage: "do not log the URLs the server answers on"},
	}
}

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
	wasm, err := os.ReadFile(path)
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

func serve(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("serve takes one module file, got %d arguments (usage: wasmserve serve [flags] MODULE.wasm)", c.NArg())
	}
	path := c.Args().First()
	if n := c.Int("isolates"); n < 0 {
		return fmt.Errorf("--isolates must be 0 (one per CPU) or more, got %d", n)
	}
	memLimit, err := parseSize(c.String("memory-limit"))
	if err != nil {
		return fmt.Errorf("--memory-limit: %w", err)
	}
	if memLimit < 1<<16 {
		return fmt.Errorf("--memory-limit %s is below one 64 KiB WebAssembly page", c.String("memory-limit"))
	}
	if memLimit > 1<<32 {
		return fmt.Errorf("--memory-limit %s is above the 4 GiB a 32-bit WebAssembly memory can address", c.String("memory-limit"))
	}
	charm, logger, err := newLogger(c.App.ErrWriter, c.String("log-level"), c.String("log-format"))
	if err != nil {
		return err
	}
	wasm, err := readModule(path)
	if err != nil {
		return err
	}
	cacheDir := c.String("cache-dir")
	if c.Bool("no-cache") {
		cacheDir = ""
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	handler, err := host.NewHandler(ctx, wasm, host.HandlerConfig{
		Isolates:    c.Int("isolates"),
		CacheDir:    cacheDir,
		MemoryLimit: memLimit,
		Logger:      logger,
	})
	if err != nil {
		return fmt.Errorf("module %s: %w", path, err)
	}
	defer handler.Close(context.Background())

	srv := host.NewServer(host.Config{
		Address:  c.String("address"),
		Port:     c.Int("port"),
		PortFile: c.String("port-file"),
		Logger:   logger,
	}, handler)
	if err := srv.Listen(ctx); err != nil {
		return err
	}

	if !c.Bool("no-banner") {
		st := handler.Pool().Stats()
		cache := "off"
		if cacheDir != "" {
			cache = map[bool]string{true: "hit", false: "miss"}[st.CacheHit]
		}
		charm.Info("wasmserve "+versionString(),
			"module", path, "abi", "http-wasm handler", "isolates", handler.Pool().Size(),
			"compile", st.CompileTime.Round(time.Millisecond), "cache", cache,
			"start", st.InstantiateTime.Round(time.Millisecond))
		if r := srv.Resolved(); len(r.Candidates) > 1 {
			charm.Info("address resolved to several IPs; using the first", "address", r.Name, "using", r.IP, "candidates", r.Candidates)
		}
	}
	if !c.Bool("no-url") {
		charm.Info("listening on " + strings.Join(srv.URLs(), " "))
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal now kills the process the default way...
	force := make(chan os.Signal, 1)
	signal.Notify(force, os.Interrupt, syscall.SIGTERM) // ...unless caught here
	charm.Info("shutting down; a second signal forces", "grace", c.Duration("grace"))
	sctx, cancel := context.WithTimeout(context.Background(), c.Duration("grace"))
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(sctx) }()
	select {
	case err := <-done:
		if err != nil {
			srv.Close()
			return &exitError{code: 1, err: fmt.Errorf("shutdown: requests still running after --grace %s were cut off", c.Duration("grace"))}
		}
	case <-force:
		srv.Close()
		return &exitError{code: 1, err: errors.New("forced shutdown: requests in flight were cut off")}
	}
	charm.Info("stopped")
	return nil
}
