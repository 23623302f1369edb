package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	cases "github.com/wasmserve/wasmserve/conformance"
	"github.com/wasmserve/wasmserve/host"
	"github.com/wasmserve/wasmserve/internal/atomicfile"
	"github.com/wasmserve/wasmserve/internal/conformance"
)

// Exit codes of `wasmserve test`.
const (
	exitCasesFailed = 1 // the cases ran and some failed
	exitCannotRun   = 2 // a case file, the module or a flag is wrong: nothing ran
)

func testCommand() *cli.Command {
	return &cli.Command{
		Name:  "test",
		Usage: "run the HTTP cases of YAML files against MODULE.wasm in process (or a running server with --url); exit 1 if any fails",
		ArgsUsage: "MODULE.wasm CASES.yaml...\n" +
			"   wasmserve test --url URL CASES.yaml...",
		Flags: testFlags(),
		OnUsageError: func(c *cli.Context, err error, sub bool) error {
			return &exitError{code: exitCannotRun, err: usageError("wasmserve test")(c, err, sub)}
		},
		Action: runTests,
	}
}

// testFlags are serve's module, limit, guest and log flags (the same
// definitions: a case runs exactly as serve would run it), and the
// runner's own.
func testFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "url", EnvVars: env("test-url"),
			Usage: "run the cases against this running server (http:// or https://) instead of a module in process"},
		&cli.StringFlag{Name: "junit", EnvVars: env("test-junit"), TakesFile: true,
			Usage: "also write the results as JUnit XML to this file"},
		&cli.StringFlag{Name: "run", EnvVars: env("test-run"),
			Usage: "run only the cases whose name matches this regular expression"},
		&cli.DurationFlag{Name: "case-timeout", Value: 30 * time.Second, EnvVars: env("test-case-timeout"),
			Usage: "longest time one case may take"},
		&cli.BoolFlag{Name: "insecure", EnvVars: env("test-insecure"),
			Usage: "with an https --url, do not verify the server's certificate"},
		&cli.StringFlag{Name: "cacert", EnvVars: env("test-cacert"), TakesFile: true,
			Usage: "with an https --url, verify the server's certificate with the PEM CAs of this file instead of the system's"},
		&cli.BoolFlag{Name: "schema",
			Usage: "print the JSON Schema of case files (for an editor's YAML support) and exit"},
	}
	flags = inCategory("Cases", flags)
	for _, group := range []struct {
		category string
		flags    []cli.Flag
	}{
		{"Limits", poolFlags()}, {"Guest", guestFlags()}, {"Middleware", middlewareFlags()},
		{"Outbound HTTP", outboundFlags()}, {"Key-value stores", kvFlags()}, {"Logging", logFlags()},
	} {
		for _, f := range inCategory(group.category, group.flags) {
			if !serveOnly[f.Names()[0]] {
				flags = append(flags, f)
			}
		}
	}
	return regroup(flags)
}

// serveOnly are the flags of serve's groups that mean nothing without a
// listener or a long-running server.
var serveOnly = map[string]bool{
	"max-header-bytes": true, "read-header-timeout": true, "watch": true,
	"no-banner": true, "no-url": true, "access-log": true, "otlp-endpoint": true,
}

func runTests(c *cli.Context) error {
	if c.Bool("schema") {
		_, err := c.App.Writer.Write(cases.Schema)
		return err
	}
	url := c.String("url")
	args := c.Args().Slice()
	var module string
	if url == "" {
		if len(args) < 2 {
			return &exitError{code: exitCannotRun, err: fmt.Errorf(
				"test takes a module and at least one case file, got %d arguments (usage: wasmserve test [flags] MODULE.wasm CASES.yaml...; or --url URL CASES.yaml...)", len(args))}
		}
		module, args = args[0], args[1:]
	} else if len(args) == 0 {
		return &exitError{code: exitCannotRun, err: errors.New("test --url takes at least one case file (usage: wasmserve test --url URL CASES.yaml...)")}
	} else if strings.HasSuffix(args[0], ".wasm") {
		return &exitError{code: exitCannotRun, err: fmt.Errorf("test --url runs against the server at the URL: drop the module %s, or drop --url to test it in process", args[0])}
	}
	var keep func(*conformance.Case) bool
	if pat := c.String("run"); pat != "" {
		rx, err := regexp.Compile(pat)
		if err != nil {
			return &exitError{code: exitCannotRun, err: fmt.Errorf("--run: %w", err)}
		}
		keep = func(cs *conformance.Case) bool { return rx.MatchString(cs.Name) }
	}
	var files []*conformance.File
	for _, p := range args {
		f, err := conformance.Load(p)
		if err != nil {
			return &exitError{code: exitCannotRun, err: err}
		}
		files = append(files, f)
	}

	ctx := context.Background()
	if d := c.Duration("case-timeout"); d <= 0 {
		return &exitError{code: exitCannotRun, err: fmt.Errorf("--case-timeout must be above 0, got %s", d)}
	}
	runner := &conformance.Runner{
		Timeout: c.Duration("case-timeout"),
		Each:    func(r *conformance.Result) { conformance.Print(c.App.Writer, []*conformance.Result{r}) },
	}
	name := url
	if url != "" {
		tc, err := testTLS(c)
		if err != nil {
			return &exitError{code: exitCannotRun, err: err}
		}
		do, err := conformance.URL(url, nil, tc)
		if err != nil {
			return &exitError{code: exitCannotRun, err: fmt.Errorf("--%w", err)}
		}
		runner.Do = do
	} else if isManifest(module) {
		name = module
		set, logs, err := testManifest(ctx, c, module)
		if err != nil {
			return &exitError{code: exitCannotRun, err: err}
		}
		defer set.Close(context.Background())
		runner.Do, runner.Log = conformance.InProcess(set), logs.String
	} else {
		name = module
		h, logs, err := testHandler(ctx, c, module)
		if err != nil {
			return &exitError{code: exitCannotRun, err: err}
		}
		defer h.Close(context.Background())
		if file := c.String("guest-profile"); file != "" {
			// The profile of the whole run, written once the cases
			// are done; its messages go to stderr, not the cases' log.
			charm, _, _ := newLogger(c.App.ErrWriter, c.String("log-level"), c.String("log-format"))
			defer writeGuestProfile(charm, h, file)()
		}
		runner.Do, runner.Log = conformance.InProcess(h), logs.String
	}

	var results []*conformance.Result
	for _, f := range files {
		results = append(results, runner.Run(ctx, f, keep)...)
	}
	if len(results) == 0 {
		return &exitError{code: exitCannotRun, err: fmt.Errorf("--run %q matches no case", c.String("run"))}
	}
	fmt.Fprintln(c.App.Writer, conformance.Summary(results))
	if p := c.String("junit"); p != "" {
		var b strings.Builder
		if err := conformance.WriteJUnit(&b, name, results); err != nil {
			return &exitError{code: exitCannotRun, err: fmt.Errorf("--junit: %w", err)}
		}
		if err := atomicfile.Write(p, 0o644, []byte(b.String())); err != nil {
			return &exitError{code: exitCannotRun, err: fmt.Errorf("--junit: %w", err)}
		}
	}
	if _, failed := conformance.Count(results); failed > 0 {
		return &exitError{code: exitCasesFailed}
	}
	return nil
}

// testHandler starts the module as serve would, with serve's flags, and a
// logger writing to memory: each case's log lines are checked and shown
// from there.
//
// The extensions live as long as the process: the command exits
// once the handler is closed.
func testHandler(ctx context.Context, c *cli.Context, path string) (*host.Handler, *syncBuffer, error) {
	mc, err := handlerConfig(c)
	if err != nil {
		return nil, nil, err
	}
	logs := &syncBuffer{}
	charm, logger, err := newLogger(logs, c.String("log-level"), c.String("log-format"))
	if err != nil {
		return nil, nil, err
	}
	hc, _, err := mc.handler(logger)
	if err != nil {
		return nil, nil, err
	}
	wasm, err := readModule(path)
	if err != nil {
		return nil, nil, err
	}
	h, err := host.NewHandler(ctx, wasm, hc)
	if err != nil {
		charm.Debug("module failed to start", "module", path, "err", err)
		if s := strings.TrimSpace(logs.String()); s != "" {
			fmt.Fprintln(c.App.ErrWriter, s)
		}
		return nil, nil, fmt.Errorf("module %s: %s", path, firstLine(err.Error()))
	}
	return h, logs, nil
}

// syncBuffer is the in-memory log of `wasmserve test`: the handler writes
// it from its goroutines while the runner reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// flagsFirst moves the flags that follow the module and case files in a
// `test` or `serve` command line before them, so that `wasmserve test
// handler.wasm cases.yaml --junit report.xml` and `wasmserve serve
// handler.wasm --port 0` work as people type them (cli stops reading flags
// at the first argument). A flag's value goes with it unless
// the flag is boolean or written --flag=value; "--" ends the flags.
func flagsFirst(args []string, flags []cli.Flag) []string {
	takesValue := map[string]bool{}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var front, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		name := strings.TrimLeft(a, "-")
		if !strings.HasPrefix(a, "-") || name == "" {
			rest = append(rest, a)
			continue
		}
		front = append(front, a)
		if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(args) {
			front = append(front, args[i+1])
			i++
		}
	}
	if len(rest) == 0 {
		return front
	}
	// "--" keeps a positional argument that begins with a dash one.
	return append(append(front, "--"), rest...)
}

// testTLS reads --insecure and --cacert: how an https --url is verified
// (nil: with the system's roots).
func testTLS(c *cli.Context) (*tls.Config, error) {
	file := c.String("cacert")
	switch {
	case file != "" && c.Bool("insecure"):
		return nil, errors.New("--cacert and --insecure are exclusive: verify with the CA file, or not at all")
	case c.Bool("insecure"):
		return &tls.Config{InsecureSkipVerify: true}, nil
	case file == "":
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--cacert: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--cacert %s holds no PEM certificate", file)
	}
	return &tls.Config{RootCAs: roots}, nil
}
