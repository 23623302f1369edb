// Package cgi is the CGI executor: it runs any WASI command module as a
// CGI/1.1 program (RFC 3875), the way Wagi does. Every request runs _start
// once, with the request's meta-variables in the environment (environ.go,
// served by a replaced environ_get: wasi.go), its body on stdin, and the
// response parsed from stdout and streamed to the client (output.go).
package cgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmserve/wasmserve/abi"
	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/reqinfo"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// Kind is the CGI executor's kind: for a module that exports _start and
// does not import http_handler.
var Kind = executor.Kind{
	Name:  "cgi",
	Title: Title,
	Detect: func(s runtimepool.Shape) (string, bool) {
		if s.Exports("_start") && !s.Imports(abi.ModuleName) {
			return "it is a WASI command: it exports _start and does not import " + abi.ModuleName, true
		}
		return "", false
	},
	Inspect: Inspect,
	New:     New,
}

// Title names the CGI executor for people.
const Title = "CGI (WASI command)"

// cgiStart is the export a CGI guest runs once per request.
const cgiStart = "_start"

// Inspect reports how cm fits the CGI executor: it needs _start, and
// imports nothing but WASI and the extensions exts.
func Inspect(cm wazero.CompiledModule, exts []executor.ImportChecker) *executor.Report {
	r := &executor.Report{ABI: Title}
	if f, ok := cm.ExportedFunctions()[cgiStart]; !ok {
		r.MissingExports = append(r.MissingExports, cgiStart)
		r.Problems = append(r.Problems, `does not export "_start": a CGI guest is a WASI command (for Go: GOOS=wasip1 go build, without -buildmode)`)
	} else {
		r.Start = cgiStart
		if len(f.ParamTypes()) != 0 || len(f.ResultTypes()) != 0 {
			r.Problems = append(r.Problems, `exports "_start" with the wrong signature: want () -> ()`)
		}
	}
	goJS := false
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		r.OtherImports = append(r.OtherImports, mod+"."+name)
		if mod == executor.GoJSModule {
			if !goJS {
				goJS = true
				r.Problem(executor.GoJSProblem)
			}
			continue
		}
		if e, ok := executor.LookupChecker(exts, mod); ok {
			// wasmserve's extensions (outbound HTTP) are offered to
			// every executor.
			if err := e.CheckImport(name, f.ParamTypes(), f.ResultTypes()); err != nil {
				r.Problems = append(r.Problems, fmt.Sprintf("imports %s.%s: %v", mod, name, err))
			}
			continue
		}
		if mod != abi.WASIModuleName {
			r.Problems = append(r.Problems, fmt.Sprintf("imports %s.%s: a CGI guest gets only %s and wasmserve's extensions", mod, name, abi.WASIModuleName))
		}
	}
	for _, m := range cm.ImportedMemories() {
		mod, name, _ := m.Import()
		r.Problems = append(r.Problems, fmt.Sprintf("imports its memory from %s.%s: a guest must define its own", mod, name))
	}
	for _, mem := range cm.ExportedMemories() {
		r.MemoryMin = mem.Min()
		r.MemoryMax, r.HasMemoryMax = mem.Max()
		break
	}
	r.Tidy()
	return r
}

// validate refuses a module Inspect finds a problem with.
func (x *cgi) validate(cm wazero.CompiledModule) error {
	if r := Inspect(cm, x.exts); !r.OK() {
		return fmt.Errorf("the module cannot be served as CGI: %s", strings.Join(r.Problems, "; "))
	}
	return nil
}

// cgi is the CGI executor. Its isolates are instantiated without running
// _start (PoolSpec.NoStart), and a request runs it: the guest reads the
// request's environment through environ_get, which this executor replaces
// in WASI, and its streams are the isolate's cgiInstance. Each isolate
// serves one request, then is reset or replaced in the background.
type cgi struct {
	log  *slog.Logger
	out  *executor.OutputLimiter
	env  []string // the configured environment: after the request's variables
	dirs bool     // a directory is granted
	exts []executor.ImportChecker
}

// New returns the CGI executor for env.
func New(env executor.Env) (executor.Executor, error) {
	return &cgi{log: env.Logger, out: env.Output, env: env.Env, dirs: len(env.Dirs) > 0, exts: env.Extensions}, nil
}

func (x *cgi) Pool() executor.PoolSpec {
	spec := executor.PoolSpec{
		Validate: x.validate,
		WASI:     x.installWASI,
		NoStart:  true,
		// A command's _start expects a fresh instance: it is never run
		// twice on the memory it left behind.
		OneRequestPerIsolate: true,
		Stdio: func(inst executor.Instance) (io.Reader, io.Writer, io.Writer) {
			c := inst.(*cgiInstance)
			return cgiStdin{c}, &c.out, c.stderr
		},
	}
	if !x.dirs {
		// Without a directory granted the only descriptors are stdin,
		// stdout and stderr, which a request's end renews anyway: no
		// read, seek or close of them leaves state behind (fd_close is
		// replaced for that), so a C command can be reset.
		for _, f := range []string{"fd_read", "fd_seek", "fd_close"} {
			spec.ResetSafeImports = append(spec.ResetSafeImports, wasi_snapshot_preview1.ModuleName+"."+f)
		}
	}
	return spec
}

func (x *cgi) NewInstance(ctx context.Context, id string) (context.Context, executor.Instance) {
	return ctx, &cgiInstance{
		x:      x,
		id:     id,
		stderr: executor.NewLineWriter(x.log, x.out, id, "stderr"),
	}
}

// cgiInstance is the CGI state of one isolate: the request it is serving.
type cgiInstance struct {
	x      *cgi
	id     string
	start  api.Function
	stderr *executor.LineWriter

	// Of the request being served; only its goroutine and the guest's
	// host calls (on the same goroutine) touch them.
	rid     string    // request id, in every log line of the request
	env     []string  // KEY=VALUE, what environ_get answers
	body    io.Reader // nil: no body
	bodyErr error     // the first error reading body, other than EOF
	out     cgiOutput
}

// Bind finds _start.
func (c *cgiInstance) Bind(mod api.Module) error {
	if c.start = mod.ExportedFunction(cgiStart); c.start == nil {
		return errors.New(`the module does not export "_start"`)
	}
	return nil
}

// cgiKey finds the cgiInstance of a call in its context.
type cgiKey struct{}

// redirectsKey counts, in a request's context, the local redirects that led
// to it.
type redirectsKey struct{}

// maxLocalRedirects bounds a chain of local redirects, which could
// otherwise loop.
const maxLocalRedirects = 10

// Handle runs _start for r. A response the guest got wrong is answered
// here, with 502; what went wrong in the guest itself (a trap, a timeout, a
// non-zero exit) is the outcome's error, for the core to answer.
func (c *cgiInstance) Handle(ctx context.Context, w http.ResponseWriter, r *http.Request) executor.Outcome {
	c.rid = reqinfo.IDOf(w) // the access log's and X-Request-Id's
	c.env = c.x.environ(c.env[:0], r)
	c.body, c.bodyErr = r.Body, nil
	if r.Body == http.NoBody {
		c.body = nil
	}
	c.stderr.SetRequest(c.rid)
	c.out.begin(w)
	_, err := c.start.Call(context.WithValue(ctx, cgiKey{}, c))
	c.out.end()
	c.stderr.Flush()
	c.body = nil
	var exit *sys.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 0 {
		err = nil // a command's normal end (Go's runtime always exits)
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(c.bodyErr, &tooBig) && !c.out.committed:
		return executor.Outcome{Err: c.bodyErr, RequestID: c.rid}
	case err != nil:
		return executor.Outcome{Err: fmt.Errorf("%s: %w", cgiStart, err), RequestID: c.rid, Committed: c.out.committed}
	case c.out.bad != "" || !c.out.wrote || c.out.phase == phaseHead:
		why := c.out.bad
		switch {
		case !c.out.wrote:
			why = "the guest wrote nothing to stdout"
		case why == "":
			why = "stdout ended before the blank line that ends the headers"
		}
		c.x.log.Error("guest's CGI response is malformed", "request_id", c.rid, "isolate", c.id,
			"method", r.Method, "uri", r.RequestURI, "why", why)
		clear(w.Header())
		reqinfo.WriteError(w, http.StatusBadGateway, "502 bad gateway: the handler's response was malformed", c.rid)
		return executor.Outcome{}
	case c.out.redirect != "":
		n, _ := r.Context().Value(redirectsKey{}).(int)
		if n >= maxLocalRedirects {
			c.x.log.Error("guest's CGI local redirects loop", "request_id", c.rid, "isolate", c.id,
				"uri", r.RequestURI, "location", c.out.redirect, "redirects", n)
			reqinfo.WriteError(w, http.StatusBadGateway, "502 bad gateway: too many local redirects", c.rid)
			return executor.Outcome{}
		}
		return executor.Outcome{Reroute: localRedirect(r, c.out.redirect, n+1)}
	}
	return executor.Outcome{}
}
