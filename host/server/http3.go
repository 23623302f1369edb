package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// HTTP3Config turns on HTTP/3 over QUIC beside HTTP/1.1 and HTTP/2: a UDP
// socket on the TLS listener's address and port, the same handler, and an
// Alt-Svc header on every HTTP/1.1 and HTTP/2 response that points
// clients to it. It needs TLS. The zero value is valid: the defaults below
// and no 0-RTT.
type HTTP3Config struct {
	// MaxStreams bounds the requests one QUIC connection may have open at
	// once (QUIC's bidirectional stream limit); 0 means
	// DefaultHTTP3MaxStreams.
	MaxStreams int
	// IdleTimeout closes a QUIC connection after this long without a
	// packet from the client; 0 means DefaultQUICIdleTimeout. (The
	// server's Config.IdleTimeout also closes one without requests.)
	IdleTimeout time.Duration
	// Allow0RTT accepts requests sent in TLS early data, before the
	// handshake completes, by a client resuming a session. Such a request
	// can be replayed by anyone who recorded it: a request that is not
	// GET, HEAD or OPTIONS is answered 425 Too Early (RFC 8470) and the
	// client sends it again after the handshake; the others reach the
	// handler with the header Early-Data: 1.
	Allow0RTT bool
}

// Defaults of HTTP3Config.
const (
	// DefaultHTTP3MaxStreams is QUIC's own default and HTTP/2's order of
	// magnitude: a client cannot queue more requests on one connection.
	DefaultHTTP3MaxStreams = 100
	// DefaultQUICIdleTimeout is quic-go's default network idle timeout.
	DefaultQUICIdleTimeout = 30 * time.Second
)

// QUIC limits that have no field: a client gets little it can make the
// server hold.
const (
	// quicHandshakeTimeout bounds a handshake's silence (twice it, the
	// whole handshake).
	quicHandshakeTimeout = 5 * time.Second
	// quicMaxUniStreams bounds the unidirectional streams a client may
	// open: HTTP/3 needs three (control, QPACK encoder and decoder).
	quicMaxUniStreams = 8
	// quicMaxStreamWindow and quicMaxConnWindow bound the request body
	// bytes a client may send ahead of the handler's reads, per request
	// and per connection (quic-go's defaults are 6 MB and 15 MB).
	quicMaxStreamWindow = 2 << 20
	quicMaxConnWindow   = 8 << 20
	// altSvcMaxAge is how long a client may remember the Alt-Svc
	// advertisement: a day, so that a server that drops HTTP/3 is not
	// tried over QUIC for a month (quic-go's own value).
	altSvcMaxAge = 24 * time.Hour
	// headerEarlyData marks a request that arrived in 0-RTT (RFC 8470).
	headerEarlyData = "Early-Data"
)

// earlyDataYes is the Early-Data header value; shared like connectionClose.
var earlyDataYes = []string{"1"}

// quicServer is the HTTP/3 half of a Server: the UDP socket, the QUIC
// transport on it and the HTTP/3 server on that.
type quicServer struct {
	udp    *net.UDPConn
	tr     *quic.Transport
	ln     *quic.EarlyListener
	h3     *http3.Server
	cfg    HTTP3Config
	altSvc []string // the Alt-Svc header of HTTP/1.1 and HTTP/2 responses
}

// checkHTTP3 refuses an HTTP/3 configuration that cannot be served.
func (s *Server) checkHTTP3() error {
	c := s.cfg.HTTP3
	if c == nil {
		return nil
	}
	switch {
	case s.cfg.TLS == nil:
		return errors.New("Config.HTTP3 needs TLS: QUIC is always encrypted; give TLSConfig.CertFile and TLSConfig.KeyFile")
	case s.cfg.Shared:
		return errors.New("Config.HTTP3 cannot be combined with Config.Shared: the kernel would spread one QUIC connection's packets over the processes sharing the port")
	case c.MaxStreams < 0:
		return fmt.Errorf("HTTP3Config.MaxStreams must be 0 (the default) or more, got %d", c.MaxStreams)
	case c.IdleTimeout < 0:
		return fmt.Errorf("HTTP3Config.IdleTimeout must be 0 (the default) or more, got %s", c.IdleTimeout)
	}
	return nil
}

// listenQUIC binds the UDP socket of HTTP/3 on the TCP listener's address
// and port.
func (s *Server) listenQUIC(ctx context.Context) error {
	tcp := s.ln.Addr().(*net.TCPAddr)
	network := "udp"
	switch {
	case s.resolved.Network == "tcp4":
		network = "udp4"
	case s.resolved.Network == "tcp6" || s.cfg.V6Only:
		network = "udp6"
	}
	addr := net.JoinHostPort(tcp.IP.String(), strconv.Itoa(tcp.Port))
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, network, addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("UDP address %s for HTTP/3 is already in use: %w", addr, errUDPInUse)
		}
		return fmt.Errorf("listening on UDP %s for HTTP/3: %w", addr, err)
	}
	udp := pc.(*net.UDPConn)
	q := &quicServer{udp: udp, cfg: *s.cfg.HTTP3}
	if q.cfg.MaxStreams == 0 {
		q.cfg.MaxStreams = DefaultHTTP3MaxStreams
	}
	if q.cfg.IdleTimeout == 0 {
		q.cfg.IdleTimeout = DefaultQUICIdleTimeout
	}
	q.tr = &quic.Transport{Conn: udp, ConnContext: s.quicConnContext}
	qc := &quic.Config{
		HandshakeIdleTimeout:       quicHandshakeTimeout,
		MaxIdleTimeout:             q.cfg.IdleTimeout,
		MaxIncomingStreams:         int64(q.cfg.MaxStreams),
		MaxIncomingUniStreams:      quicMaxUniStreams,
		MaxStreamReceiveWindow:     quicMaxStreamWindow,
		MaxConnectionReceiveWindow: quicMaxConnWindow,
		Allow0RTT:                  q.cfg.Allow0RTT,
	}
	q.h3 = &http3.Server{
		Handler:        http.HandlerFunc(s.serveHTTP),
		TLSConfig:      s.http.TLSConfig,
		QUICConfig:     qc,
		MaxHeaderBytes: s.cfg.MaxHeaderBytes,
		IdleTimeout:    s.cfg.IdleTimeout,
		ConnContext:    s.http3ConnContext,
		Logger:         s.cfg.Logger,
	}
	// The listener is made here, not by http3.Server.Serve, so that a
	// failure is Listen's and Shutdown need not race with Serve. The TLS
	// config is the TCP listener's with h3 as its protocol, also in the
	// config its GetConfigForClient returns for each handshake: one
	// reload serves both.
	q.ln, err = q.tr.ListenEarly(http3.ConfigureTLSConfig(s.http.TLSConfig), qc)
	if err != nil {
		q.tr.Close()
		udp.Close()
		return fmt.Errorf("listening on UDP %s for HTTP/3: %w", addr, err)
	}
	q.altSvc = []string{fmt.Sprintf(`h3=":%d"; ma=%d`, tcp.Port, int(altSvcMaxAge.Seconds()))}
	s.quic = q
	return nil
}

// errUDPInUse marks a UDP port taken by another socket, which Listen may
// retry with another port when the port was its own choice.
var errUDPInUse = errors.New("stop the other server or choose another Config.Port")

// serve serves HTTP/3 until Shutdown or Close; it returns nil after them.
func (q *quicServer) serve() error {
	err := q.h3.ServeListener(q.ln)
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, quic.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serving HTTP/3: %w", err)
}

// shutdownQUIC refuses new QUIC connections, sends every open one a GOAWAY
// and waits for their requests until ctx is done, closing each connection
// once it has none, then closes the UDP socket.
func (s *Server) shutdownQUIC(ctx context.Context) error {
	q := s.quic
	// Closing the listener refuses handshakes and leaves the accepted
	// connections to the HTTP/3 server's drain.
	q.ln.Close()
	done := make(chan error, 1)
	go func() { done <- q.h3.Shutdown(ctx) }()
	// The HTTP/3 server waits for each client to close its connection
	// after the GOAWAY, and a client that went away without closing it
	// would hold the drain until QUIC's idle timeout. So, as net/http
	// closes idle keep-alive connections, idle QUIC connections are closed
	// here: those seen without a request at two polls in a row.
	tick := time.NewTicker(quicDrainPoll)
	defer tick.Stop()
	seen := map[*quicConn]int64{} // idle at the last poll, with its request count then
	for {
		select {
		case err := <-done:
			q.close()
			return err
		case <-tick.C:
		}
		s.conns.mu.Lock()
		var idle []*quic.Conn
		for qc := range s.conns.quic {
			c, started := qc.conn.Load(), qc.started.Load()
			if c == nil || qc.requests.Load() > 0 {
				delete(seen, qc)
				continue
			}
			if n, ok := seen[qc]; ok && n == started {
				idle = append(idle, c)
				continue
			}
			seen[qc] = started
		}
		s.conns.mu.Unlock()
		for _, c := range idle {
			c.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "")
		}
	}
}

// quicDrainPoll is how often a drain looks for idle QUIC connections.
const quicDrainPoll = 50 * time.Millisecond

// close closes every QUIC connection at once, and the socket.
func (q *quicServer) close() {
	q.h3.Close()
	q.ln.Close()
	q.tr.Close()
	q.udp.Close()
}

// quicConn is one QUIC connection as the connection tracker follows it:
// from its first packet (Transport.ConnContext) to its end.
type quicConn struct {
	remote   string
	opened   time.Time
	conn     atomic.Pointer[quic.Conn] // set once it is accepted for HTTP/3
	proto    atomic.Pointer[string]
	requests atomic.Int64 // requests in progress
	started  atomic.Int64 // requests begun
}

// quicConnKey is the context key of a QUIC connection's *quicConn.
type quicConnKey struct{}

// quicConnContext is the QUIC transport's ConnContext: it tracks the
// connection from its first packet until its context ends (closed, or the
// handshake failed), and counts a handshake failure when it ends without
// a completed handshake (a client certificate refused included: the
// listener hands a connection over before the client's Finished).
func (s *Server) quicConnContext(ctx context.Context, info *quic.ClientInfo) (context.Context, error) {
	qc := &quicConn{remote: info.RemoteAddr.String(), opened: time.Now()}
	s.conns.mu.Lock()
	s.conns.quic[qc] = struct{}{}
	s.conns.mu.Unlock()
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.ConnOpened()
		s.cfg.Metrics.QUICConnOpened()
	}
	context.AfterFunc(ctx, func() {
		s.conns.mu.Lock()
		delete(s.conns.quic, qc)
		s.conns.mu.Unlock()
		if c := qc.conn.Load(); s.cfg.Metrics != nil && (c == nil || !c.ConnectionState().TLS.HandshakeComplete) {
			s.cfg.Metrics.TLSFailure()
		}
	})
	return context.WithValue(ctx, quicConnKey{}, qc), nil
}

// http3ConnContext is the HTTP/3 server's ConnContext: the connection is
// accepted (for a connection without 0-RTT, its handshake is done or
// about to be).
func (s *Server) http3ConnContext(ctx context.Context, c *quic.Conn) context.Context {
	qc, _ := ctx.Value(quicConnKey{}).(*quicConn)
	if qc == nil {
		return ctx
	}
	qc.conn.Store(c)
	go func() {
		// The TLS version is known once the handshake completes.
		select {
		case <-c.HandshakeComplete():
		case <-c.Context().Done():
			return
		}
		v := tls.VersionName(c.ConnectionState().TLS.Version)
		proto := "h3 " + v
		qc.proto.Store(&proto)
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.TLSHandshake(v)
		}
	}()
	return ctx
}

// quicRequest accounts for an HTTP/3 request on its connection and, with
// 0-RTT on, looks at whether it came in early data: it returns false after
// answering a request that must wait for the handshake (425), and marks a
// safe early request with Early-Data: 1. done ends the request's account.
func (s *Server) quicRequest(r *http.Request) (ok bool, done func()) {
	qc, _ := r.Context().Value(quicConnKey{}).(*quicConn)
	if qc == nil {
		return true, func() {}
	}
	qc.started.Add(1)
	qc.requests.Add(1)
	done = func() { qc.requests.Add(-1) }
	if !s.quic.cfg.Allow0RTT {
		return true, done
	}
	c := qc.conn.Load()
	if c == nil {
		return true, done
	}
	select {
	case <-c.HandshakeComplete():
		return true, done
	default:
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		r.Header[headerEarlyData] = earlyDataYes
		return true, done
	}
	return false, done
}

// quicConnInfos describes the open QUIC connections.
func (t *connTracker) quicConnInfos(now time.Time, out []ConnInfo) []ConnInfo {
	for qc := range t.quic {
		age := now.Sub(qc.opened)
		state, proto := qc.state(), ""
		if p := qc.proto.Load(); p != nil {
			proto = *p
		}
		out = append(out, ConnInfo{Remote: qc.remote, State: state, Protocol: proto, Age: age,
			AgeText: age.Round(time.Millisecond).String()})
	}
	return out
}

// state is the connection's state in net/http's words: new until it is
// accepted with its handshake done, then active while it has requests in
// progress, else idle.
func (qc *quicConn) state() string {
	switch {
	case qc.proto.Load() == nil:
		return http.StateNew.String()
	case qc.requests.Load() > 0:
		return http.StateActive.String()
	}
	return http.StateIdle.String()
}
