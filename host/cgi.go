package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/net/http/httpguts"

	"github.com/wasmserve/wasmserve/abi"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// cgiKind runs any WASI command module as a CGI/1.1 program (RFC 3875), the
// way Wagi does: every request runs _start once, with the request's
// meta-variables in the environment, its body on stdin, and the response on
// stdout.
var cgiKind = executorKind{
	name:  "cgi",
	title: cgiTitle,
	detect: func(s runtimepool.Shape) (string, bool) {
		if s.Exports("_start") && !s.Imports(abi.ModuleName) {
			return "it is a WASI command: it exports _start and does not import " + abi.ModuleName, true
		}
		return "", false
	},
	inspect: inspectCGI,
	make:    newCGI,
}

// cgiTitle names the CGI executor for people.
const cgiTitle = "CGI (WASI command)"

// cgiStart is the export a CGI guest runs once per request.
const cgiStart = "_start"

// inspectCGI reports how cm fits the CGI executor: it needs _start, and
// imports nothing but WASI.
func inspectCGI(cm wazero.CompiledModule) *abi.Report {
	r := &abi.Report{ABI: cgiTitle}
	if f, ok := cm.ExportedFunctions()[cgiStart]; !ok {
		r.MissingExports = append(r.MissingExports, cgiStart)
		r.Problems = append(r.Problems, `does not export "_start": a CGI guest is a WASI command (for Go: GOOS=wasip1 go build, without -buildmode)`)
	} else {
		r.Start = cgiStart
		if len(f.ParamTypes()) != 0 || len(f.ResultTypes()) != 0 {
			r.Problems = append(r.Problems, `exports "_start" with the wrong signature: want () -> ()`)
		}
	}
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		r.OtherImports = append(r.OtherImports, mod+"."+name)
		if e, ok := abi.LookupExtension(mod); ok {
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
	sort.Strings(r.OtherImports)
	return r
}

// validateCGI refuses a module inspectCGI finds a problem with.
func validateCGI(cm wazero.CompiledModule) error {
	if r := inspectCGI(cm); !r.OK() {
		return fmt.Errorf("the module cannot be served as CGI: %s", strings.Join(r.Problems, "; "))
	}
	return nil
}

// cgi is the CGI executor. Its isolates are instantiated without running
// _start (runtimepool.Config.NoStart), and a request runs it: the guest
// reads the request's environment through environ_get, which this executor
// replaces in WASI, and its streams are the isolate's cgiInstance. Each
// isolate serves one request, then is reset or replaced in the background.
type cgi struct {
	h   *Handler
	env []string // HandlerConfig.Env: after the request's variables
}

func newCGI(h *Handler) (executor, error) {
	return &cgi{h: h, env: h.cfg.Env}, nil
}

func (x *cgi) configure(pc *runtimepool.Config[*isolateState]) {
	pc.Validate = validateCGI
	pc.WASI = x.installWASI
	pc.NoStart = true
	// A command's _start expects a fresh instance: it is never run twice
	// on the memory it left behind.
	pc.MaxRequestsPerIsolate = 1
	if len(x.h.cfg.Dirs) == 0 {
		// Without a directory granted the only descriptors are stdin,
		// stdout and stderr, which a request's end renews anyway: no
		// read, seek or close of them leaves state behind (fd_close is
		// replaced for that), so a C command can be reset.
		for _, f := range []string{"fd_read", "fd_seek", "fd_close"} {
			pc.ResetSafeImports = append(pc.ResetSafeImports, wasi_snapshot_preview1.ModuleName+"."+f)
		}
	}
	pc.Stdio = func(st *isolateState) (io.Reader, io.Writer, io.Writer) {
		c := st.guest.(*cgiInstance)
		return cgiStdin{c}, &c.out, c.stderr
	}
}

func (x *cgi) prepare(ctx context.Context, id string) (context.Context, instance) {
	return ctx, &cgiInstance{
		x:      x,
		id:     id,
		stderr: newLineLogger(x.h.log, x.h.out, id, "stderr"),
	}
}

// cgiInstance is the CGI state of one isolate: the request it is serving.
type cgiInstance struct {
	x      *cgi
	id     string
	start  api.Function
	stderr *lineLogger

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
// non-zero exit) is an error for ServeHTTP to answer.
func (c *cgiInstance) Handle(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	if info := infoOf(w); info != nil {
		c.rid = info.id // the access log's and X-Request-Id's
	} else {
		c.rid = newRequestID()
	}
	c.env = c.x.environ(c.env[:0], r)
	c.body, c.bodyErr = r.Body, nil
	if r.Body == http.NoBody {
		c.body = nil
	}
	c.stderr.setRequest(c.rid)
	c.out.begin(w)
	_, err := c.start.Call(context.WithValue(ctx, cgiKey{}, c))
	c.out.end()
	c.stderr.flush()
	c.body = nil
	var exit *sys.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 0 {
		err = nil // a command's normal end (Go's runtime always exits)
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(c.bodyErr, &tooBig) && !c.out.committed:
		return &requestError{err: c.bodyErr, id: c.rid}
	case err != nil:
		return &requestError{err: fmt.Errorf("%s: %w", cgiStart, err), id: c.rid, committed: c.out.committed}
	case c.out.bad != "" || !c.out.wrote || c.out.phase == phaseHead:
		why := c.out.bad
		switch {
		case !c.out.wrote:
			why = "the guest wrote nothing to stdout"
		case why == "":
			why = "stdout ended before the blank line that ends the headers"
		}
		c.x.h.log.Error("guest's CGI response is malformed", "request_id", c.rid, "isolate", c.id,
			"method", r.Method, "uri", r.RequestURI, "why", why)
		clear(w.Header())
		writeError(w, http.StatusBadGateway, "502 bad gateway: the handler's response was malformed", c.rid)
		return nil
	case c.out.redirect != "":
		n, _ := r.Context().Value(redirectsKey{}).(int)
		if n >= maxLocalRedirects {
			c.x.h.log.Error("guest's CGI local redirects loop", "request_id", c.rid, "isolate", c.id,
				"uri", r.RequestURI, "location", c.out.redirect, "redirects", n)
			writeError(w, http.StatusBadGateway, "502 bad gateway: too many local redirects", c.rid)
			return nil
		}
		return &reroute{r: localRedirect(r, c.out.redirect, n+1)}
	}
	return nil
}

// localRedirect is the request a local Location answers (RFC 3875 §6.2.2):
// a GET of path and query on the same server, without a body.
func localRedirect(r *http.Request, loc string, n int) *http.Request {
	r2 := r.Clone(context.WithValue(r.Context(), redirectsKey{}, n))
	u, err := url.ParseRequestURI(loc)
	if err != nil {
		u = &url.URL{Path: loc}
	}
	r2.Method = http.MethodGet
	r2.URL = u
	r2.RequestURI = loc
	r2.Body, r2.ContentLength = http.NoBody, 0
	r2.Header.Del("Content-Length")
	r2.Header.Del("Content-Type")
	return r2
}

// environ appends r's CGI/1.1 meta-variables (RFC 3875 §4.1), Wagi's
// X_FULL_URL and X_RAW_PATH_INFO, and then the configured environment to
// env, as KEY=VALUE.
func (x *cgi) environ(env []string, r *http.Request) []string {
	add := func(k, v string) { env = append(env, k+"="+v) }
	scheme, defPort := "http", "80"
	if r.TLS != nil {
		scheme, defPort = "https", "443"
	}
	name, port := r.Host, ""
	if h, p, err := net.SplitHostPort(r.Host); err == nil {
		name, port = h, p
	}
	if port == "" {
		port = defPort
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if _, p, err := net.SplitHostPort(a.String()); err == nil {
				port = p
			}
		}
	}
	add("GATEWAY_INTERFACE", "CGI/1.1")
	add("SERVER_SOFTWARE", "wasmserve")
	add("SERVER_NAME", name)
	add("SERVER_PORT", port)
	add("SERVER_PROTOCOL", r.Proto)
	add("REQUEST_METHOD", r.Method)
	add("REQUEST_URI", r.URL.RequestURI())
	add("SCRIPT_NAME", "")
	add("PATH_INFO", r.URL.Path)
	add("QUERY_STRING", r.URL.RawQuery)
	add("X_FULL_URL", scheme+"://"+r.Host+r.URL.RequestURI())
	add("X_RAW_PATH_INFO", r.URL.EscapedPath())
	if r.ContentLength > 0 {
		add("CONTENT_LENGTH", strconv.FormatInt(r.ContentLength, 10))
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		add("CONTENT_TYPE", ct)
	}
	if ip, p, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		add("REMOTE_ADDR", ip)
		add("REMOTE_HOST", ip)
		add("REMOTE_PORT", p)
	}
	if r.TLS != nil {
		add("HTTPS", "on")
	}
	add("HTTP_HOST", r.Host)
	for k, vs := range r.Header {
		// A name with "_" would pass for one with "-" (X_Forwarded_For
		// as X-Forwarded-For); Proxy is httpoxy: programs take
		// HTTP_PROXY for their outbound proxy.
		if strings.IndexByte(k, '_') >= 0 || k == "Proxy" || k == "Content-Type" || k == "Content-Length" || k == "Host" {
			continue
		}
		sep := ", "
		if k == "Cookie" {
			sep = "; "
		}
		add("HTTP_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_")), strings.Join(vs, sep))
	}
	n := len(env)
	for _, kv := range x.env {
		k, _, _ := strings.Cut(kv, "=")
		if !hasKey(env[:n], k) {
			env = append(env, kv)
		}
	}
	return env
}

// hasKey reports whether env has a KEY=VALUE entry for k.
func hasKey(env []string, k string) bool {
	for _, kv := range env {
		if len(kv) > len(k) && kv[len(k)] == '=' && kv[:len(k)] == k {
			return true
		}
	}
	return false
}

// cgiStdin is a CGI guest's stdin: the body of the request it serves, read
// as the guest reads it.
type cgiStdin struct{ c *cgiInstance }

func (s cgiStdin) Read(p []byte) (int, error) {
	c := s.c
	if c.body == nil {
		return 0, io.EOF
	}
	n, err := c.body.Read(p)
	if err != nil && err != io.EOF && c.bodyErr == nil {
		c.bodyErr = err
	}
	return n, err
}

// WASI error numbers the functions replaced here answer.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoFault   = 21
)

// installWASI defines wazero's WASI with environ_get and environ_sizes_get
// replaced by ones that answer the environment of the request in the call's
// context: wazero fixes an instance's environment when it is instantiated,
// and a CGI isolate is instantiated before its request is known. Without a
// directory granted, fd_close is replaced too: closing stdin, stdout or
// stderr does nothing (the request's end closes them), and there is no
// other descriptor to close.
func (x *cgi) installWASI(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	i32 := api.ValueTypeI32
	if len(x.h.cfg.Dirs) == 0 {
		b.NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(fdCloseStdio), []api.ValueType{i32}, []api.ValueType{i32}).
			WithParameterNames("fd").
			Export("fd_close")
	}
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(environSizesGet), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("result.environc", "result.environv_len").
		Export("environ_sizes_get")
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(environGet), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("environ", "environ_buf").
		Export("environ_get")
	_, err := b.Instantiate(ctx)
	return err
}

// callEnv is the environment of the request the call serves; none outside
// a request.
func callEnv(ctx context.Context) []string {
	if c, ok := ctx.Value(cgiKey{}).(*cgiInstance); ok {
		return c.env
	}
	return nil
}

func fdCloseStdio(_ context.Context, _ api.Module, stack []uint64) {
	if uint32(stack[0]) <= 2 {
		stack[0] = errnoSuccess
	} else {
		stack[0] = errnoBadf
	}
}

func environSizesGet(ctx context.Context, mod api.Module, stack []uint64) {
	env := callEnv(ctx)
	size := 0
	for _, kv := range env {
		size += len(kv) + 1
	}
	mem := mod.Memory()
	if mem == nil || !mem.WriteUint32Le(uint32(stack[0]), uint32(len(env))) || !mem.WriteUint32Le(uint32(stack[1]), uint32(size)) {
		stack[0] = errnoFault
		return
	}
	stack[0] = errnoSuccess
}

func environGet(ctx context.Context, mod api.Module, stack []uint64) {
	env := callEnv(ctx)
	mem := mod.Memory()
	ptrs, buf := uint32(stack[0]), uint32(stack[1])
	stack[0] = errnoFault
	if mem == nil {
		return
	}
	for i, kv := range env {
		if !mem.WriteUint32Le(ptrs+4*uint32(i), buf) || !mem.WriteString(buf, kv) || !mem.WriteByte(buf+uint32(len(kv)), 0) {
			return
		}
		buf += uint32(len(kv)) + 1
	}
	stack[0] = errnoSuccess
}

// The phases of a CGI response on stdout.
type outPhase uint8

const (
	phaseHead    outPhase = iota // reading header lines
	phaseBody                    // the status is sent; writes go to the client
	phaseDiscard                 // a local redirect or a malformed header: writes are dropped
)

// maxCGIHead bounds a CGI response's header section.
const maxCGIHead = 64 << 10

// flushDelay is how long the headers and body bytes may wait in the
// response buffer: a timer flushes them that long after they were written,
// unless the guest ended first (then net/http sends everything at once,
// with a Content-Length).
const flushDelay = 10 * time.Millisecond

// cgiOutput is a CGI guest's stdout: it parses the header section (RFC 3875
// §6), then streams the body to the client.
type cgiOutput struct {
	mu        sync.Mutex // the guest's writes against the flush timer
	w         http.ResponseWriter
	phase     outPhase
	head      []byte // the header section so far
	line      int    // where in head the current line starts
	status    int
	location  string
	bad       string // why the response is malformed
	redirect  string // a local Location: serve it instead
	wrote     bool   // the guest wrote anything
	committed bool   // the status line is out
	timer     *time.Timer
	armed     bool // timer is set
	ended     bool // the request is over: w is not ours any more
}

// begin readies o for a request answered on w.
func (o *cgiOutput) begin(w http.ResponseWriter) {
	o.mu.Lock()
	o.w, o.phase, o.head, o.line = w, phaseHead, o.head[:0], 0
	o.status, o.location, o.bad, o.redirect = 0, "", "", ""
	o.wrote, o.committed, o.ended = false, false, false
	o.mu.Unlock()
}

// end stops o from touching the response.
func (o *cgiOutput) end() {
	o.mu.Lock()
	o.ended = true
	if o.timer != nil {
		o.timer.Stop()
		o.armed = false
	}
	o.w = nil
	o.mu.Unlock()
}

// Write takes what the guest wrote to stdout. An error reaches the guest
// as EIO: the client is gone.
func (o *cgiOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended {
		return 0, errors.New("the request is over")
	}
	n := len(p)
	if n > 0 {
		o.wrote = true
	}
	for o.phase == phaseHead && len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		end := len(p)
		if i >= 0 {
			end = i + 1
		}
		if len(o.head)+end > maxCGIHead {
			o.fail(fmt.Sprintf("the header section is over %d bytes", maxCGIHead))
			return n, nil
		}
		if i < 0 {
			o.head = append(o.head, p...)
			return n, nil
		}
		o.head = append(o.head, p[:i+1]...)
		p = p[i+1:]
		line := strings.TrimRight(string(o.head[o.line:]), "\r\n")
		o.line = len(o.head)
		if line == "" {
			o.endHead()
		} else {
			o.field(line)
		}
	}
	if o.phase != phaseBody || len(p) == 0 {
		return n, nil
	}
	if _, err := o.w.Write(p); err != nil {
		return 0, err
	}
	o.arm()
	return n, nil
}

// arm sets the flush timer unless it is set.
func (o *cgiOutput) arm() {
	if o.armed {
		return
	}
	o.armed = true
	if o.timer == nil {
		o.timer = time.AfterFunc(flushDelay, o.flush)
	} else {
		o.timer.Reset(flushDelay)
	}
}

// flush sends the body buffered so far, unless the request is over.
func (o *cgiOutput) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ended || !o.armed {
		return
	}
	o.armed = false
	http.NewResponseController(o.w).Flush()
}

func (o *cgiOutput) fail(why string) {
	if o.bad == "" {
		o.bad = why
	}
	o.phase = phaseDiscard
}

// hopByHop are header fields of one connection, which a CGI response must
// not set for the client's.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// field takes one header line of the response.
func (o *cgiOutput) field(line string) {
	name, value, ok := strings.Cut(line, ":")
	if !ok || !httpguts.ValidHeaderFieldName(name) {
		o.fail(fmt.Sprintf("header line %.80q is not \"Name: value\"", line))
		return
	}
	value = strings.TrimSpace(value)
	if !httpguts.ValidHeaderFieldValue(value) {
		o.fail(fmt.Sprintf("header %s has a value with control characters", name))
		return
	}
	name = http.CanonicalHeaderKey(name)
	switch {
	case name == "Status":
		code, err := strconv.Atoi(strings.SplitN(value, " ", 2)[0])
		if err != nil || code < 200 || code > 599 || o.status != 0 {
			o.fail(fmt.Sprintf("Status %.40q is not one status of 200 to 599", value))
			return
		}
		o.status = code
	case name == "Location":
		if o.location != "" {
			o.fail("two Location headers")
			return
		}
		o.location = value
	case hopByHop[name]:
	case name == "Content-Length":
		if _, err := strconv.ParseUint(value, 10, 63); err != nil {
			o.fail(fmt.Sprintf("Content-Length %.40q is not a number", value))
			return
		}
		o.w.Header().Set(name, value)
	default:
		o.w.Header().Add(name, value)
	}
}

// endHead acts on the header section (RFC 3875 §6.2): a local Location is
// a redirect served here; an absolute one is sent, with 302 unless Status
// says otherwise; anything else is a document, 200 unless Status says.
func (o *cgiOutput) endHead() {
	status, loc := o.status, o.location
	if loc != "" {
		if strings.HasPrefix(loc, "/") {
			o.redirect = loc
			o.phase = phaseDiscard
			return
		}
		if u, err := url.Parse(loc); err != nil || !u.IsAbs() {
			o.fail(fmt.Sprintf("Location %.80q is neither a local path nor an absolute URL", loc))
			return
		}
		o.w.Header().Set("Location", loc)
		if status == 0 {
			status = http.StatusFound
		}
	}
	if status == 0 {
		status = http.StatusOK
	}
	o.w.WriteHeader(status)
	o.committed = true
	o.phase = phaseBody
	o.arm() // the headers go out too while the guest works on the body
}
