package observe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// AdminConfig configures an [Admin] listener. Address, Server and Handler
// are required; a nil Metrics serves no /metrics, a nil Logger discards.
type AdminConfig struct {
	// Address is host:port to listen on, e.g. 127.0.0.1:9090. Keep it
	// off the public network: pprof and the connection list are there.
	Address string
	// Server is the public server whose readiness and connections are
	// reported.
	Server Server
	// Handler is the module's handler whose pool health is reported.
	Handler Handler
	// Apps, when set, is the server's apps, described at /debug/apps.
	Apps AppsReporter
	// Metrics is the registry /metrics serves.
	Metrics *Metrics
	// Logger receives the admin server's errors.
	Logger *slog.Logger
	// Checks are more conditions of readiness (a store's server
	// answers): while one returns an error, /readyz answers 503 with it.
	// Each is called with the request's context on every /readyz.
	Checks []func(ctx context.Context) error
}

// Server is what the admin listener reports of the public server
// (host/server's Server).
type Server interface {
	// Ready reports whether the server takes new requests.
	Ready() bool
	// Draining reports whether the server is shutting down.
	Draining() bool
	// ConnectionsReport describes the open connections, served as JSON
	// at /debug/connections.
	ConnectionsReport() any
}

// AppsReporter describes the apps of a server of many (host/apps' Set).
type AppsReporter interface {
	// AppsReport describes every app, served as JSON at /debug/apps.
	AppsReport() any
}

// Handler is what the admin listener reports of the handler (host's
// Handler).
type Handler interface {
	// Healthy reports whether the isolate pool keeps itself at full size.
	Healthy() bool
	// ServeGuestProfile answers a CPU profile of guest code.
	ServeGuestProfile(w http.ResponseWriter, r *http.Request)
}

// Admin is the admin listener, separate from the public one so that the
// public port never exposes it. It serves:
//
//	/metrics            Prometheus text format
//	/healthz            200 while the process is up
//	/readyz             200 when the server is listening, not draining, the pool healthy and every check passes; else 503
//	/debug/pprof/       net/http/pprof
//	/debug/pprof/guest  a CPU profile of guest code (Handler.ServeGuestProfile)
//	/debug/connections  JSON: connection counts, and every open connection
//	/debug/apps         JSON: the apps, their routes, generations and pools (with AdminConfig.Apps)
type Admin struct {
	http *http.Server
	ln   net.Listener
}

// NewAdmin binds the admin address. Call Serve, and Close after the public
// server has drained (so that /readyz says 503 all through the drain).
func NewAdmin(cfg AdminConfig) (*Admin, error) {
	if cfg.Server == nil || cfg.Handler == nil {
		return nil, errors.New("admin needs the server and the handler")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("admin address %q: %w", cfg.Address, err)
	}
	mux := http.NewServeMux()
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics.reg, promhttp.HandlerOpts{
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case cfg.Server.Draining():
			http.Error(w, "draining: shutting down", http.StatusServiceUnavailable)
		case !cfg.Server.Ready():
			http.Error(w, "not listening yet", http.StatusServiceUnavailable)
		case !cfg.Handler.Healthy():
			http.Error(w, "isolate pool unhealthy: replacing isolates keeps failing", http.StatusServiceUnavailable)
		default:
			for _, check := range cfg.Checks {
				if err := check(r.Context()); err != nil {
					http.Error(w, err.Error(), http.StatusServiceUnavailable)
					return
				}
			}
			io.WriteString(w, "ready\n")
		}
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/guest", cfg.Handler.ServeGuestProfile)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /debug/connections", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(cfg.Server.ConnectionsReport())
	})
	if cfg.Apps != nil {
		mux.HandleFunc("GET /debug/apps", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.Encode(cfg.Apps.AppsReport())
		})
	}
	return &Admin{ln: ln, http: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}}, nil
}

// Addr is the bound admin address.
func (a *Admin) Addr() net.Addr { return a.ln.Addr() }

// URL is the admin listener's base URL.
func (a *Admin) URL() string { return "http://" + a.ln.Addr().String() }

// Serve serves until Close; it returns nil after Close.
func (a *Admin) Serve() error {
	err := a.http.Serve(a.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("admin: %w", err)
}

// Close stops the admin listener, letting requests in flight (a profile)
// end until ctx is done.
func (a *Admin) Close(ctx context.Context) error {
	if err := a.http.Shutdown(ctx); err != nil {
		return a.http.Close()
	}
	return nil
}
