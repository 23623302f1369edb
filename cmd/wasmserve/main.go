// Command wasmserve serves an HTTP handler compiled to WebAssembly, running
// every request inside an isolated wazero instance of the module.
//
//	wasmserve serve [flags] handler.wasm [flags]
//	wasmserve handler.wasm            (serve is the default)
//	wasmserve version
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// exitError carries a specific exit code through cli's error return.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

// run is main without os.Exit, for tests: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	// "wasmserve handler.wasm" means "wasmserve serve handler.wasm".
	if len(args) > 1 && (strings.HasSuffix(args[1], ".wasm") || isManifest(args[1])) {
		args = append([]string{args[0], "serve"}, args[1:]...)
	}
	if len(args) > 2 && args[1] == "test" {
		args = append(args[:2:2], flagsFirst(args[2:], testFlags())...)
	}
	if len(args) > 2 && (args[1] == "serve" || args[1] == "dev") {
		args = append(args[:2:2], flagsFirst(args[2:], serveFlags())...)
	}
	if len(args) == 1 {
		fmt.Fprint(stderr, shortUsage)
		return 2
	}
	// help is a command cli adds as it runs; "help TOPIC" names a command.
	a := args[1]
	if (a == "help" || a == "h") && len(args) > 2 && !strings.HasPrefix(args[2], "-") {
		a = args[2]
	}
	if !strings.HasPrefix(a, "-") && a != "help" && a != "h" && app.Command(a) == nil {
		fmt.Fprintln(stderr, "wasmserve: "+unknownCommand(app, a))
		return 2
	}
	err := app.Run(args)
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if msg := flagNames.Replace(err.Error()); msg != "" {
		fmt.Fprintln(stderr, "wasmserve: "+msg)
	}
	return code
}

// flagNames names the flag of each configuration field the libraries'
// errors name: the libraries speak Go, the command speaks flags. Longer
// names come first, so that TLSConfig.ClientCAFile is not read as
// TLSConfig.ClientCert.
var flagNames = strings.NewReplacer(
	"TLSConfig.ClientCAFile", "--client-ca",
	"TLSConfig.ClientCert", "--client-cert",
	"TLSConfig.CertFile", "--tls-cert",
	"TLSConfig.KeyFile", "--tls-key",
	"TLSConfig.KeyPassword", "--tls-key-password or --tls-key-password-file",
	"TLSConfig.ALPN", "--alpn",
	"Config.ListenFD", "--listen-fd",
	"Config.Backlog", "--backlog",
	"Config.V6Only", "--v6only",
	"Config.Shared", "--shared",
	"Config.Port", "--port",
	"Config.H2C", "--h2c",
	"Config.HTTP3", "--http3",
	"raise the start timeout", "raise --handler-timeout",
)

func init() {
	// --version prints what the version command prints; no -v, which
	// reads as "verbose".
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version of wasmserve and of its runtime"}
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintf(c.App.Writer, "wasmserve %s\n", c.App.Version) }
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:                 "wasmserve",
		Usage:                "serve an HTTP handler compiled to WebAssembly, one isolate per request",
		UsageText:            usageLines,
		Version:              versionString(),
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: false,
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError:         usageError("wasmserve"),
		Commands: []*cli.Command{
			serveCommand(),
			newCommand(),
			buildCommand(),
			devCommand(),
			checkCommand(),
			testCommand(),
			certsCommand(),
			versionCommand(),
		},
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version of wasmserve and of its runtime",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(c.App.Writer, "wasmserve %s\n", versionString())
			return nil
		},
	}
}

// versionString is the version with the Go and wazero versions it was built
// with.
func versionString() string {
	v, goVersion, wazero := buildInfo()
	return fmt.Sprintf("%s (%s, wazero %s)", v, goVersion, wazero)
}

// buildInfo returns wasmserve's version (set at build time, else the
// module's version when installed with go install), Go's and wazero's.
func buildInfo() (v, goVersion, wazero string) {
	v = version
	wazero, goVersion = "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				wazero = d.Version
			}
		}
	}
	return v, goVersion, wazero
}
