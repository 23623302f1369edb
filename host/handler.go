package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// HandlerConfig configures the module a [Handler] runs. The zero value is
// valid: one isolate per CPU, no compilation cache, wazero's memory limit,
// empty guest config, logs discarded.
type HandlerConfig struct {
	// Isolates is the pool size; 0 means one per CPU, negative is an
	// error.
	Isolates int
	// CacheDir is the on-disk compilation cache; empty disables it.
	CacheDir string
	// MemoryLimit caps each isolate's linear memory in bytes, rounded
	// down to 64 KiB pages; 0 means wazero's 4 GiB.
	MemoryLimit uint64
	// GuestConfig is what get_config returns to the guest.
	GuestConfig []byte
	// Logger receives guest logs, guest output and faults. Nil discards.
	Logger *slog.Logger
	// Upstream is the origin a request goes to when the guest returns
	// next=1 (middleware mode), an http or https URL; empty answers 404.
	Upstream string
	// MaxBufferedBody bounds an upstream response body held for a guest
	// with the buffer_response feature; 0 means 10 MiB.
	MaxBufferedBody int64
}

// Handler serves HTTP requests by running each inside an isolate of the
// module. It is an http.Handler.
type Handler struct {
	pool *runtimepool.Pool
	abi  *abi.Host
	log  *slog.Logger
}

// NewHandler compiles wasm, checks it fits the handler ABI, and fills the
// isolate pool. Every error here is a module the server cannot run.
func NewHandler(ctx context.Context, wasm []byte, cfg HandlerConfig) (*Handler, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{log: logger, abi: &abi.Host{Logger: logger, Config: cfg.GuestConfig, MaxBufferedBody: cfg.MaxBufferedBody}}
	if cfg.Upstream != "" {
		u, err := ParseUpstream(cfg.Upstream)
		if err != nil {
			return nil, err
		}
		h.abi.Next = NewProxy(u, logger)
	}
	pc := runtimepool.Config{
		Isolates:         cfg.Isolates,
		CacheDir:         cfg.CacheDir,
		MemoryLimitPages: uint32(min(cfg.MemoryLimit>>16, 65536)),
		Installers:       []runtimepool.Installer{h.abi.Install},
		Validate:         abi.Validate,
		Prepare: func(ctx context.Context, id string) (context.Context, any) {
			g := h.abi.NewGuest(id)
			return g.Context(ctx), g
		},
		Bind: func(v any, mod api.Module) error {
			return v.(*abi.Guest).Bind(mod)
		},
		Output: func(id string) (io.Writer, io.Writer) {
			return newLineLogger(logger, id, "stdout"), newLineLogger(logger, id, "stderr")
		},
		Logger: logger,
	}
	if cfg.MemoryLimit > 0 && pc.MemoryLimitPages == 0 {
		pc.MemoryLimitPages = 1
	}
	pool, err := runtimepool.New(ctx, wasm, pc)
	if err != nil {
		return nil, err
	}
	h.pool = pool
	return h, nil
}

// Pool returns the isolate pool, for stats and tests.
func (h *Handler) Pool() *runtimepool.Pool { return h.pool }

// Compiled returns the compiled module.
func (h *Handler) Compiled() wazero.CompiledModule { return h.pool.Compiled() }

// Close closes the pool and the runtime. Requests still running finish
// first only if the caller shut the server down before.
func (h *Handler) Close(ctx context.Context) error {
	err := h.pool.Close(ctx)
	h.pool.CloseRuntime(ctx)
	return err
}

// ServeHTTP runs r through an isolate. A guest fault discards the isolate
// and answers a generic 500 with a request id; the detail goes only to the
// log under the same id.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	iso, err := h.pool.Acquire(r.Context())
	if err != nil {
		if errors.Is(err, runtimepool.ErrClosed) {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "503 server shutting down", "")
		}
		// Otherwise the client went away while waiting: nobody reads
		// an answer.
		return
	}
	g := iso.Value.(*abi.Guest)
	err = g.Handle(context.Background(), w, r)
	if err == nil {
		h.pool.Release(iso)
		return
	}
	h.pool.Discard(iso, err)
	id := requestID()
	h.log.Error("guest failed", "request_id", id, "isolate", iso.ID,
		"method", r.Method, "uri", r.RequestURI, "err", err)
	var ge *abi.GuestError
	if errors.As(err, &ge) && ge.Committed {
		// The status line is out: the only honest signal left is to
		// cut the response short.
		panic(http.ErrAbortHandler)
	}
	clear(w.Header())
	writeError(w, http.StatusInternalServerError, "500 handler error", id)
}

// writeError answers a generic error. No guest or host error text reaches
// the client: only the status and the request id to find the log line.
func writeError(w http.ResponseWriter, code int, text, id string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if id != "" {
		h.Set("X-Request-Id", id)
		text += " (request id " + id + ")"
	}
	w.WriteHeader(code)
	io.WriteString(w, text+"\n")
}

// requestID returns a random id tying an error response to its log line.
func requestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// lineLogger turns guest output into log lines tagged with the isolate.
type lineLogger struct {
	log    *slog.Logger
	mu     sync.Mutex
	buf    []byte
	attrs  []any
	stream string
}

func newLineLogger(l *slog.Logger, id, stream string) *lineLogger {
	return &lineLogger{log: l, stream: stream, attrs: []any{"isolate", id, "stream", stream}}
}

// maxLine bounds a buffered partial line; longer ones are logged in pieces.
const maxLine = 4096

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxLine {
				w.emit()
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.emit()
		p = p[i+1:]
	}
	return n, nil
}

func (w *lineLogger) emit() {
	line := string(bytes.TrimRight(w.buf, "\r"))
	w.buf = w.buf[:0]
	w.log.Info("guest "+w.stream+": "+line, w.attrs...)
}
