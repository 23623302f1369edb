// Package server is wasmserve's HTTP server: it resolves, binds and secures
// the listener (address keywords, port 0, backlog, v6only, SO_REUSEPORT,
// inherited sockets, TLS with client certificates and ALPN), serves
// HTTP/1.1, HTTP/2, h2c and HTTP/3 over QUIC, and puts request ids,
// default headers, compression, the access log, metrics and tracing in
// front of the handler it is given. It knows nothing of WebAssembly: the handler is any
// http.Handler (host.Handler in wasmserve).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/internal/accesslog"
)

// Config configures a [Server]'s listener and HTTP behaviour. The zero value
// is valid: localhost, an ephemeral port, no port file, a 10 s read-header
// timeout and a 120 s idle timeout, the system's backlog, dual-stack,
// unshared, plain HTTP/1.1, no default or Server header, no compression, no
// access log, no metrics.
type Config struct {
	// Address is an IP literal, a host name (first lookup result used) or
	// a keyword (any, any4, any6, loopback, loopback6). Empty means
	// localhost.
	Address string
	// Port is the TCP port; 0 picks a free one.
	Port int
	// PortFile, when set, receives the bound port once listening;
	// Shutdown and Close remove it if it still holds that port.
	PortFile string
	// ReadHeaderTimeout bounds reading a request's headers; 0 means 10 s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long; 0 means
	// DefaultIdleTimeout, and NetHTTPIdleTimeout (any negative value)
	// net/http's default (the read timeout, else none).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds request headers; 0 means net/http's 1 MiB.
	MaxHeaderBytes int
	// Logger receives server errors. Nil discards.
	Logger *slog.Logger

	// Backlog is listen(2)'s backlog; 0 is the system default.
	Backlog int
	// V6Only makes an IPv6 listener refuse IPv4 clients.
	V6Only bool
	// Shared sets SO_REUSEPORT: several processes may bind the port.
	Shared bool
	// ListenFD, when positive, serves on this inherited listening socket
	// instead of binding Address and Port.
	ListenFD int
	// TLS, when non-nil, serves HTTPS.
	TLS *TLSConfig
	// HTTP3, when non-nil, serves HTTP/3 over QUIC on a UDP socket of the
	// TLS listener's address and port, and advertises it with Alt-Svc on
	// HTTP/1.1 and HTTP/2 responses; see [HTTP3Config]. Needs TLS.
	HTTP3 *HTTP3Config
	// H2C serves cleartext HTTP/2 (prior knowledge and Upgrade: h2c)
	// beside HTTP/1.1 when TLS is nil. An upgrade request with a body is
	// served as HTTP/1.1, under the handler's body limit.
	H2C bool

	// Headers are added to every response that does not set the same
	// header itself: the guest's own value wins. Nil adds none.
	Headers http.Header
	// ServerHeader is the Server header of every response that does not
	// set one; empty sends none (wasmserve's command sends
	// DefaultServerHeader).
	ServerHeader string
	// Compress, when non-nil, compresses responses the client accepts
	// compressed; see [CompressConfig].
	Compress *CompressConfig
	// AccessLog, when non-nil, gets one info line per request: method,
	// path, proto, status, bytes, duration, isolate, request_id, remote.
	AccessLog *slog.Logger
	// Tracer, when non-nil, traces every request: a server span that
	// continues the W3C traceparent of the request, a child span for the
	// guest call, and in middleware mode a client span for the upstream
	// call (whose traceparent the upstream gets). Nil traces nothing.
	Tracer trace.TracerProvider
	// Metrics, when non-nil, counts requests, bytes, durations,
	// connections and TLS handshakes; see observe.NewMetrics. One
	// Metrics serves one Server.
	Metrics *observe.Metrics
}

// DefaultIdleTimeout is the idle timeout of a zero Config.IdleTimeout.
const DefaultIdleTimeout = 120 * time.Second

// NetHTTPIdleTimeout, as Config.IdleTimeout, leaves idle connections to
// net/http's default.
const NetHTTPIdleTimeout = -1

// Server is wasmserve's HTTP server on one listener.
type Server struct {
	cfg      Config
	handler  http.Handler
	http     *http.Server
	ln       net.Listener
	resolved Resolved
	port     int
	certs    *certStore  // nil without TLS
	quic     *quicServer // nil without HTTP/3

	serverHeader []string               // {cfg.ServerHeader}, shared by every response
	compress     *compressor            // nil without compression
	tracer       trace.Tracer           // nil without Config.Tracer
	entries      *accesslog.EntryLogger // nil unless Config.AccessLog is accesslog's
	conns        connTracker
	draining     atomic.Bool

	wrotePortFile  bool      // Listen wrote cfg.PortFile
	removePortOnce sync.Once // the port file is removed once, by Shutdown or Close
}

// NewServer returns a server for handler. Call Listen, then Serve.
func NewServer(cfg Config, handler http.Handler) *Server {
	if cfg.ReadHeaderTimeout == 0 {
		cfg.ReadHeaderTimeout = 10 * time.Second
	}
	switch {
	case cfg.IdleTimeout == 0:
		cfg.IdleTimeout = DefaultIdleTimeout
	case cfg.IdleTimeout < 0:
		cfg.IdleTimeout = 0
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// Every response shares these slices: clipped, so that an append
	// after the commit copies instead of writing into them.
	hdr := make(http.Header, len(cfg.Headers))
	for name, values := range cfg.Headers {
		hdr[http.CanonicalHeaderKey(name)] = slices.Clip(slices.Clone(values))
	}
	cfg.Headers = hdr
	s := &Server{cfg: cfg, handler: clientCertHeaders(handler), serverHeader: []string{cfg.ServerHeader}}
	if cfg.Compress != nil {
		s.compress = newCompressor(*cfg.Compress)
	}
	if cfg.Tracer != nil {
		s.tracer = cfg.Tracer.Tracer(observe.TracerName)
	}
	if cfg.AccessLog != nil {
		s.entries = accesslog.EntryLoggerOf(cfg.AccessLog)
	}
	s.conns.init(cfg.Metrics)
	if cfg.Metrics != nil {
		cfg.Metrics.CollectConnections(func() (active, idle, closing int) {
			ci := s.Connections()
			return ci.Active, ci.Idle, ci.Closing
		})
	}
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ConnState:         s.conns.track,
		ConnContext:       withLengthScan,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Listen resolves the address and binds the port (with HTTP/3, the UDP
// port of the same number too), then writes the port file.
func (s *Server) Listen(ctx context.Context) error {
	if err := s.configureProtocols(); err != nil {
		return err
	}
	if err := s.checkHTTP3(); err != nil {
		return err
	}
	// With port 0 the kernel picks a free TCP port, whose UDP twin may be
	// taken: then another pick, a few times.
	for try := 1; ; try++ {
		ln, res, err := s.bind(ctx)
		if err != nil {
			return err
		}
		s.ln, s.resolved = ln, res
		if s.cfg.HTTP3 == nil {
			break
		}
		err = s.listenQUIC(ctx)
		if err == nil {
			break
		}
		ln.Close()
		if !errors.Is(err, errUDPInUse) || s.cfg.Port != 0 || s.cfg.ListenFD > 0 || try == 8 {
			return err
		}
	}
	s.port = s.ln.Addr().(*net.TCPAddr).Port
	ln := s.ln
	if s.cfg.PortFile != "" {
		if err := writePortFile(s.cfg.PortFile, s.port); err != nil {
			ln.Close()
			if s.quic != nil {
				s.quic.close()
			}
			return err
		}
		s.wrotePortFile = true
	}
	return nil
}

// removePortFile removes the port file Listen wrote, once, if it still
// holds this server's port: another process may have written its own
// since, and that one stays.
func (s *Server) removePortFile() {
	if !s.wrotePortFile {
		return
	}
	s.removePortOnce.Do(func() {
		b, err := os.ReadFile(s.cfg.PortFile)
		if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(s.port) {
			return
		}
		if err := os.Remove(s.cfg.PortFile); err != nil && s.cfg.Logger != nil {
			s.cfg.Logger.Warn("removing the port file", "path", s.cfg.PortFile, "err", err)
		}
	})
}

// Resolved returns how the address was resolved; valid after Listen.
func (s *Server) Resolved() Resolved { return s.resolved }

// Addr returns the bound address; valid after Listen.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// HTTP3Addr returns the UDP address HTTP/3 is served on, nil without
// HTTP/3; valid after Listen.
func (s *Server) HTTP3Addr() net.Addr {
	if s.quic == nil {
		return nil
	}
	return s.quic.udp.LocalAddr()
}

// Port returns the bound port; valid after Listen.
func (s *Server) Port() int { return s.port }

// URLs lists every URL a user can type to reach the server.
func (s *Server) URLs() []string {
	if s.certs != nil {
		return urls("https", s.resolved, s.port)
	}
	return urls("http", s.resolved, s.port)
}

// Serve serves until Shutdown or Close; it returns nil after a shutdown.
// With HTTP/3 it serves TCP and QUIC, and the first of them to fail closes
// both.
func (s *Server) Serve() error {
	if s.ln == nil {
		return errors.New("serve called before listen")
	}
	if s.quic == nil {
		return s.serveTCP()
	}
	errc := make(chan error, 2)
	go func() { errc <- s.quic.serve() }()
	go func() { errc <- s.serveTCP() }()
	err := <-errc
	if err != nil {
		s.Close()
		<-errc
		return err
	}
	return <-errc
}

// serveTCP serves HTTP/1.1 and HTTP/2 until Shutdown or Close; it returns
// nil after them.
func (s *Server) serveTCP() error {
	var err error
	ln := stallListener{s.ln, s}
	if s.certs != nil {
		err = s.http.ServeTLS(ln, "", "")
	} else {
		// Plain HTTP only: TLS connections cannot be scanned (see
		// lengthScanListener).
		err = s.http.Serve(lengthScanListener{ln})
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serving: %w", err)
}

// Shutdown stops accepting, closes idle connections and waits for requests
// in flight until ctx is done; QUIC connections get a GOAWAY and are
// closed once their requests are done, then the UDP socket. From its start
// the server is draining: [Server.Ready] is false, and the port file is
// removed if it still holds the server's port.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.removePortFile()
	if s.quic == nil {
		return s.http.Shutdown(ctx)
	}
	quicDone := make(chan error, 1)
	go func() { quicDone <- s.shutdownQUIC(ctx) }()
	err := s.http.Shutdown(ctx)
	return errors.Join(err, <-quicDone)
}

// Handler is what the server serves with: request ids, default and Server
// headers, compression, the access log and the metrics in front of the
// handler given to NewServer (client certificate headers included). It
// lets another http.Server, or a benchmark, serve the same way.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Ready reports whether the server takes new requests: listening and not
// draining.
func (s *Server) Ready() bool { return s.ln != nil && !s.draining.Load() }

// Draining reports whether Shutdown has begun.
func (s *Server) Draining() bool { return s.draining.Load() }

// ConnectionsReport is the connection counts and every open connection, for
// the admin listener's /debug/connections.
func (s *Server) ConnectionsReport() any {
	return struct {
		ConnectionsInfo
		Open []ConnInfo `json:"open"`
	}{s.Connections(), s.OpenConnections()}
}

// Close closes the listener and every connection at once, and removes the
// port file if it still holds the server's port.
func (s *Server) Close() error {
	s.removePortFile()
	if s.quic != nil {
		s.quic.close()
	}
	return s.http.Close()
}
