package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmserve/wasmserve/host/observe"
)

// ConnectionsInfo counts a server's connections by state, after Dart's
// HttpServer.connectionsInfo(): Total = Active + Idle + Closing, where
// Closing is a connection that is new (not yet past its first request, for
// TLS still in its handshake) or hijacked.
type ConnectionsInfo struct {
	Total   int `json:"total"`
	Active  int `json:"active"`
	Idle    int `json:"idle"`
	Closing int `json:"closing"`
}

// ConnInfo describes one open connection.
type ConnInfo struct {
	// Remote is the client's address, ip:port.
	Remote string `json:"remote"`
	// State is new, active, idle or hijacked.
	State string `json:"state"`
	// Protocol is "http" for a cleartext connection (HTTP/1.1, or h2c),
	// and the ALPN protocol and TLS version for HTTPS ("h2 TLS 1.3",
	// "http/1.1 TLS 1.2", and "h3 TLS 1.3" for QUIC); empty before the
	// first request (for QUIC, before its handshake completes).
	Protocol string `json:"protocol"`
	// Age is how long the connection has been open.
	Age time.Duration `json:"age_ns"`
	// AgeText is Age for a human.
	AgeText string `json:"age"`
}

// connTracker follows every connection through http.Server.ConnState.
// A connection's own transitions (active, idle: two a request) touch only
// its entry, found in a sync.Map without a lock: one mutex over every
// connection was waited on by every request of a busy server.
type connTracker struct {
	conns   sync.Map // net.Conn → *connEntry
	mu      sync.Mutex
	quic    map[*quicConn]struct{} // HTTP/3's connections; under mu
	metrics *observe.Metrics
}

type connEntry struct {
	state  atomic.Int32 // an http.ConnState
	opened time.Time
	proto  atomic.Pointer[string] // set at the first activation
	active atomic.Bool            // has been active at least once
}

func (t *connTracker) init(m *observe.Metrics) {
	t.quic = map[*quicConn]struct{}{}
	t.metrics = m
}

// track is the http.Server's ConnState hook.
func (t *connTracker) track(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		e := &connEntry{opened: time.Now()}
		e.state.Store(int32(state))
		t.conns.Store(c, e)
		if t.metrics != nil {
			t.metrics.ConnOpened()
		}
		return
	case http.StateClosed:
		v, ok := t.conns.LoadAndDelete(c)
		if ok && !v.(*connEntry).active.Load() && t.metrics != nil {
			if tc, ok := c.(*tls.Conn); ok && !tc.ConnectionState().HandshakeComplete {
				t.metrics.TLSFailure()
			}
		}
		return
	}
	v, ok := t.conns.Load(c)
	if !ok {
		return
	}
	e := v.(*connEntry)
	e.state.Store(int32(state))
	if state == http.StateActive && e.active.CompareAndSwap(false, true) {
		proto := "http"
		if tc, ok := c.(*tls.Conn); ok {
			cs := tc.ConnectionState()
			v := tls.VersionName(cs.Version)
			proto = cs.NegotiatedProtocol
			if proto == "" {
				proto = "http/1.1"
			}
			proto += " " + v
			if t.metrics != nil {
				t.metrics.TLSHandshake(v)
			}
		}
		e.proto.Store(&proto)
	}
}

// each calls f with every TCP connection and its entry.
func (t *connTracker) each(f func(net.Conn, *connEntry)) {
	t.conns.Range(func(k, v any) bool {
		f(k.(net.Conn), v.(*connEntry))
		return true
	})
}

// protoOf is e's protocol, empty before its first request.
func (e *connEntry) protoOf() string {
	if p := e.proto.Load(); p != nil {
		return *p
	}
	return ""
}

// Connections returns the connection counts now.
func (s *Server) Connections() ConnectionsInfo {
	var ci ConnectionsInfo
	s.conns.each(func(_ net.Conn, e *connEntry) { countConn(&ci, http.ConnState(e.state.Load())) })
	s.conns.mu.Lock()
	defer s.conns.mu.Unlock()
	for qc := range s.conns.quic {
		switch qc.state() {
		case http.StateActive.String():
			countConn(&ci, http.StateActive)
		case http.StateIdle.String():
			countConn(&ci, http.StateIdle)
		default:
			countConn(&ci, http.StateNew)
		}
	}
	return ci
}

func countConn(ci *ConnectionsInfo, state http.ConnState) {
	ci.Total++
	switch state {
	case http.StateActive:
		ci.Active++
	case http.StateIdle:
		ci.Idle++
	default:
		ci.Closing++
	}
}

// OpenConnections describes every open connection, oldest first.
func (s *Server) OpenConnections() []ConnInfo {
	now := time.Now()
	var out []ConnInfo
	s.conns.each(func(c net.Conn, e *connEntry) {
		age := now.Sub(e.opened)
		out = append(out, ConnInfo{Remote: c.RemoteAddr().String(), State: http.ConnState(e.state.Load()).String(),
			Protocol: e.protoOf(), Age: age, AgeText: age.Round(time.Millisecond).String()})
	})
	s.conns.mu.Lock()
	out = s.conns.quicConnInfos(now, out)
	s.conns.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Age > out[j].Age })
	return out
}
