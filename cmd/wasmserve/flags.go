package main

import (
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// env returns the environment variable that also sets flag name:
// WASMSERVE_ and the name upper-cased with dashes as underscores.
func env(name string) []string {
	return []string{"WASMSERVE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
}

// serveFlags are the flags of `wasmserve serve`, grouped by the part of the
// server they configure; each group lives beside the code that reads it.
func serveFlags() []cli.Flag {
	var all []cli.Flag
	for _, group := range [][]cli.Flag{listenFlags(), poolFlags(), guestFlags(), logFlags()} {
		all = append(all, group...)
	}
	return all
}

// listenFlags configure the listener: where to bind and how.
func listenFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "address", Aliases: []string{"a"}, Value: "localhost", EnvVars: env("address"),
			Usage: "IP address, host name, or any|any4|any6|loopback|loopback6"},
		&cli.IntFlag{Name: "port", Aliases: []string{"p"}, Value: 8080, EnvVars: env("port"),
			Usage: "TCP port; 0 picks a free one"},
		&cli.StringFlag{Name: "port-file", EnvVars: env("port-file"),
			Usage: "write the bound port to this file once listening"},
		&cli.DurationFlag{Name: "grace", Value: 30 * time.Second, EnvVars: env("grace"),
			Usage: "how long shutdown waits for requests in flight"},
	}
}

// poolFlags configure the isolate pool and the module.
func poolFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "isolates", Value: 0, EnvVars: env("isolates"),
			Usage: "pooled module instances; 0 = one per CPU"},
		&cli.StringFlag{Name: "memory-limit", Value: "128MiB", EnvVars: env("memory-limit"),
			Usage: "linear memory limit per isolate"},
		&cli.StringFlag{Name: "cache-dir", Value: defaultCacheDir(), EnvVars: env("cache-dir"),
			Usage: "compilation cache directory"},
		&cli.BoolFlag{Name: "no-cache", EnvVars: env("no-cache"),
			Usage: "compile without the on-disk cache"},
	}
}

// logFlags configure logging and the start-up output.
func logFlags() []cli.Flag {
	return []cli.Flag{
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

// guestFlags configure what the guest sees: its config bytes and the
// upstream of middleware mode.
func guestFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "upstream", EnvVars: env("upstream"),
			Usage: "http(s) URL the request is proxied to when the guest calls next; unset answers 404"},
		&cli.StringFlag{Name: "guest-config", EnvVars: env("guest-config"), TakesFile: true,
			Usage: "file whose bytes get_config returns to the guest"},
		&cli.StringFlag{Name: "guest-config-string", EnvVars: env("guest-config-string"),
			Usage: "string get_config returns to the guest (instead of --guest-config)"},
	}
}
