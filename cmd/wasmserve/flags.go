package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/host"
	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/host/server"
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
	for _, group := range []struct {
		category string
		flags    []cli.Flag
	}{
		{"Listener", listenFlags()},
		{"TLS", tlsFlags()},
		{"Isolates and limits", poolFlags()},
		{"Guest", guestFlags()},
		{"Middleware", middlewareFlags()},
		{"Outbound HTTP", outboundFlags()},
		{"Key-value stores", kvFlags()},
		{"Logging", logFlags()},
		{"Admin", adminFlags()},
		{"Runtime", runtimeFlags()},
		{"Apps", appsFlags()},
	} {
		all = append(all, inCategory(group.category, group.flags)...)
	}
	return regroup(all)
}

// inCategory sets the help category of every flag, so that `serve --help`
// lists them in groups.
func inCategory(category string, flags []cli.Flag) []cli.Flag {
	for _, f := range flags {
		switch f := f.(type) {
		case *cli.StringFlag:
			f.Category = category
		case *cli.IntFlag:
			f.Category = category
		case *cli.BoolFlag:
			f.Category = category
		case *cli.DurationFlag:
			f.Category = category
		case *cli.Float64Flag:
			f.Category = category
		case *cli.GenericFlag:
			f.Category = category
		default:
			panic(fmt.Sprintf("inCategory: no category for a %T", f))
		}
	}
	return flags
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
		&cli.IntFlag{Name: "backlog", EnvVars: env("backlog"),
			Usage: "listen(2) backlog; 0 = the system default (net.core.somaxconn)"},
		&cli.BoolFlag{Name: "v6only", EnvVars: env("v6only"),
			Usage: "an IPv6 listener refuses IPv4 clients (default: dual-stack)"},
		&cli.BoolFlag{Name: "shared", EnvVars: env("shared"),
			Usage: "SO_REUSEPORT: several processes may serve one address and port"},
		&cli.IntFlag{Name: "listen-fd", EnvVars: env("listen-fd"),
			Usage: "serve on this inherited listening socket instead of binding (systemd LISTEN_FDS is used automatically)"},
		&cli.BoolFlag{Name: "h2c", EnvVars: env("h2c"),
			Usage: "serve cleartext HTTP/2 (prior knowledge and Upgrade: h2c) beside HTTP/1.1"},
		&cli.DurationFlag{Name: "idle-timeout", Value: server.DefaultIdleTimeout, EnvVars: env("idle-timeout"),
			Usage: "close a keep-alive connection idle this long; 0 = net/http's default (the read timeout, else none)"},
		&cli.BoolFlag{Name: "compress", EnvVars: env("compress"),
			Usage: "compress compressible responses with zstd, br or gzip, as the client's Accept-Encoding prefers"},
		&cli.StringFlag{Name: "compress-min-size", Value: "1KiB", EnvVars: env("compress-min-size"),
			Usage: "smallest response --compress compresses (a body of unknown length is compressed once it reaches this size)"},
		&cli.GenericFlag{Name: "header", Value: &repeated{}, EnvVars: env("header"),
			Usage: "add 'Name: value' to every response unless the guest set Name (repeatable)"},
		&cli.StringFlag{Name: "server-header", Value: server.DefaultServerHeader, EnvVars: env("server-header"),
			Usage: "the Server header of every response unless the guest set one; empty = none"},
	}
}

// tlsFlags configure HTTPS, HTTP/2 over TLS and HTTP/3.
func tlsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tls-cert", EnvVars: env("tls-cert"),
			Usage: "PEM certificate chain, leaf first; turns on HTTPS (re-read on SIGHUP)"},
		&cli.StringFlag{Name: "tls-key", EnvVars: env("tls-key"),
			Usage: "PEM private key (PKCS#1, PKCS#8 or EC; may be encrypted)"},
		&cli.StringFlag{Name: "tls-key-password", EnvVars: env("tls-key-password"),
			Usage: "password of an encrypted --tls-key"},
		&cli.StringFlag{Name: "tls-key-password-file", EnvVars: env("tls-key-password-file"),
			Usage: "file whose first line is the password of --tls-key"},
		&cli.StringFlag{Name: "client-cert", Value: "none", EnvVars: env("client-cert"),
			Usage: "ask clients for a certificate: none, request or require"},
		&cli.StringFlag{Name: "client-ca", EnvVars: env("client-ca"),
			Usage: "PEM CAs that client certificates must chain to (re-read on SIGHUP)"},
		&cli.StringFlag{Name: "alpn", Value: "h2,http/1.1", EnvVars: env("alpn"),
			Usage: "TLS application protocols in preference order; http/1.1 alone turns HTTP/2 off"},
		&cli.StringFlag{Name: "tls-min-version", Value: "1.2", EnvVars: env("tls-min-version"),
			Usage: "lowest TLS version accepted: 1.0, 1.1, 1.2 or 1.3"},
		&cli.BoolFlag{Name: "http3", EnvVars: env("http3"),
			Usage: "also serve HTTP/3 over QUIC on the UDP port of the same number, advertised with Alt-Svc; needs --tls-cert and --tls-key"},
		&cli.BoolFlag{Name: "http3-0rtt", EnvVars: env("http3-0rtt"),
			Usage: "accept HTTP/3 requests in 0-RTT early data, which can be replayed (GET, HEAD and OPTIONS only; others get 425)"},
	}
}

// poolFlags configure the isolate pool, the module, and the limits that
// protect the server from it and from clients.
func poolFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "isolates", Value: 0, EnvVars: env("isolates"),
			Usage: "pooled module instances; 0 = one per CPU (four per CPU with --upstream)"},
		&cli.StringFlag{Name: "memory-limit", Value: "128MiB", EnvVars: env("memory-limit"),
			Usage: "linear memory limit per isolate"},
		&cli.StringFlag{Name: "cache-dir", Value: defaultCacheDir(), EnvVars: env("cache-dir"),
			Usage: "compilation cache directory"},
		&cli.BoolFlag{Name: "no-cache", EnvVars: env("no-cache"),
			Usage: "compile without the on-disk cache"},
		&cli.DurationFlag{Name: "handler-timeout", Value: 30 * time.Second, EnvVars: env("handler-timeout"),
			Usage: "interrupt a guest running longer than this and answer 504; 0 = never (faster guest code)"},
		&cli.StringFlag{Name: "max-body", Value: "10MiB", EnvVars: env("max-body"),
			Usage: "largest request body; bigger gets 413; 0 = no limit"},
		&cli.StringFlag{Name: "max-header-bytes", Value: "1MiB", EnvVars: env("max-header-bytes"),
			Usage: "largest request header block; bigger gets 431"},
		&cli.DurationFlag{Name: "read-header-timeout", Value: 10 * time.Second, EnvVars: env("read-header-timeout"),
			Usage: "time a client has to send its request headers"},
		&cli.DurationFlag{Name: "read-timeout", Value: host.DefaultReadTimeout, EnvVars: env("read-timeout"),
			Usage: "time a client has to send its request body (then 408); never more than --handler-timeout; 0 = no bound of its own"},
		&cli.DurationFlag{Name: "write-timeout", Value: host.DefaultWriteTimeout, EnvVars: env("write-timeout"),
			Usage: "time a response has to reach the client (then the connection is closed); never more than --handler-timeout; 0 = no bound of its own"},
		&cli.DurationFlag{Name: "queue-timeout", Value: time.Second, EnvVars: env("queue-timeout"),
			Usage: "longest wait for a free isolate before 503; 0 = as long as the client waits"},
		&cli.IntFlag{Name: "max-queue", Value: 1024, EnvVars: env("max-queue"),
			Usage: "most requests waiting for an isolate before 503; 0 = no bound"},
		&cli.IntFlag{Name: "max-requests-per-isolate", Value: 0, EnvVars: env("max-requests-per-isolate"),
			Usage: "renew an isolate after this many requests (reset to its state after start, or a new instance); 0 = reuse forever, 1 = fresh isolate per request"},
		&cli.BoolFlag{Name: "watch", EnvVars: env("watch"),
			Usage: "reload the module when its file changes (polled every second); SIGHUP also reloads"},
	}
}

// repeated is a flag value that collects every occurrence as is, without
// splitting on commas (environment values may hold commas).
type repeated []string

// Set adds one occurrence.
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// String lists the occurrences.
func (r *repeated) String() string { return strings.Join(*r, " ") }

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
		&cli.BoolFlag{Name: "access-log", Value: true, EnvVars: env("access-log"),
			Usage: "log one line per request (--access-log=false turns it off)"},
		&cli.StringFlag{Name: "otlp-endpoint", EnvVars: env("otlp-endpoint"),
			Usage: "send OpenTelemetry traces over OTLP/HTTP to this URL, e.g. http://localhost:4318 (the OTEL_EXPORTER_OTLP_* variables work too); unset = off"},
	}
}

// abiFlag chooses the executor: how the module is run. check takes it too.
func abiFlag() cli.Flag {
	return &cli.StringFlag{Name: "abi", Value: host.ABIAuto, EnvVars: env("abi"),
		Usage: "how the module is run: " + strings.Join(host.ABINames(), ", ") +
			" (auto: http-wasm when it imports http_handler or exports handle_request, else cgi for a WASI command, one that exports _start; wasi-http for a component exporting wasi:http/incoming-handler)"}
}

// runtimeFlags tune the server process's Go runtime.
func runtimeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "gc-heap-floor", Value: "64MiB", EnvVars: env("gc-heap-floor"),
			Usage: "let the heap grow to this size before the garbage collector runs, while the live heap is small (fewer collections under load); 0 = Go's default; ignored when GOGC is set"},
	}
}

// adminFlags configure the admin listener: metrics, health and debugging.
func adminFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "admin", EnvVars: env("admin"),
			Usage: "serve /metrics, /healthz, /readyz, /debug/pprof/ (and /debug/pprof/guest) and /debug/connections on this separate address, e.g. 127.0.0.1:9090; unset = off"},
	}
}

// middlewareFlags configure middleware mode: where next goes.
func middlewareFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "upstream", EnvVars: env("upstream"),
			Usage: "http(s) URL the request is proxied to when the guest calls next; unset answers 404"},
		&cli.IntFlag{Name: "upstream-max-idle", Value: httpwasm.DefaultUpstreamMaxIdle, EnvVars: env("upstream-max-idle"),
			Usage: "idle connections kept to --upstream for reuse; keep it at least --isolates"},
		&cli.DurationFlag{Name: "upstream-timeout", Value: httpwasm.DefaultUpstreamTimeout, EnvVars: env("upstream-timeout"),
			Usage: "bound on connecting to --upstream, and then on waiting for its response headers"},
	}
}

// guestFlags configure how the module is run and what the guest sees: its
// config bytes, directories, environment, and how its output is logged.
func guestFlags() []cli.Flag {
	return []cli.Flag{
		abiFlag(),
		&cli.GenericFlag{Name: "dir", Value: &repeated{}, EnvVars: env("dir"),
			Usage: "grant the guest a directory, HOST[:GUEST][:ro] (repeatable)"},
		&cli.GenericFlag{Name: "env", Value: &repeated{}, EnvVars: env("env"),
			Usage: "set a guest environment variable, K=V (repeatable)"},
		&cli.Float64Flag{Name: "guest-output-rate", Value: executor.DefaultOutputRate, EnvVars: env("guest-output-rate"),
			Usage: "guest stdout/stderr lines logged per second (bursts of twice as many); 0 = no limit"},
		&cli.StringFlag{Name: "guest-config", EnvVars: env("guest-config"), TakesFile: true,
			Usage: "file whose bytes get_config returns to the guest"},
		&cli.StringFlag{Name: "guest-config-string", EnvVars: env("guest-config-string"),
			Usage: "string get_config returns to the guest (instead of --guest-config)"},
		&cli.StringFlag{Name: "guest-profile", EnvVars: env("guest-profile"), TakesFile: true,
			Usage: "write a pprof CPU profile of guest code to FILE at shutdown (go tool pprof FILE); implies --guest-profiling"},
		&cli.BoolFlag{Name: "guest-profiling", EnvVars: env("guest-profiling"),
			Usage: "compile the module with the guest profiler, for --guest-profile and the admin /debug/pprof/guest; slows guest calls"},
	}
}
