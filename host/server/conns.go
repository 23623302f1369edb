package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"sort"
	"sync"
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
type connTracker struct {
	mu      sync.Mutex
	conns   map[net.Conn]*connEntry
	quic    map[*quicConn]struct{} // HTTP/3's connections
	metrics *observe.Metrics
}

type connEntry struct {
	state  http.ConnState
	opened time.Time
	proto  string
	active bool // has been active at least once
}

func (t *connTracker) init(m *observe.Metrics) {
	t.conns = map[net.Conn]*connEntry{}
	t.quic = map[*quicConn]struct{}{}
	t.metrics = m
}

// track is the http.Server's ConnState hook.
func (t *connTracker) track(c net.Conn, state http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.conns[c]
	switch state {
	case http.StateNew:
		t.conns[c] = &connEntry{state: state, opened: time.Now()}
		if t.metrics != nil {
			t.metrics.ConnOpened()
		}
		return
	case http.StateClosed:
		delete(t.conns, c)
		if e != nil && !e.active && t.metrics != nil {
			if tc, ok := c.(*tls.Conn); ok && !tc.ConnectionState().HandshakeComplete {
				t.metrics.TLSFailure()
			}
		}
		return
	}
	if e == nil {
		return
	}
	e.state = state
	if state == http.StateActive && !e.active {
		e.active = true
		e.proto = "http"
		if tc, ok := c.(*tls.Conn); ok {
			cs := tc.ConnectionState()
			v := tls.VersionName(cs.Version)
			e.proto = cs.NegotiatedProtocol
			if e.proto == "" {
				e.proto = "http/1.1"
			}
			e.proto += " " + v
			if t.metrics != nil {
				t.metrics.TLSHandshake(v)
			}
		}
	}
}

// Connections returns the connection counts now.
func (s *Server) Connections() ConnectionsInfo {
	s.conns.mu.Lock()
	defer s.conns.mu.Unlock()
	var ci ConnectionsInfo
	for _, e := range s.conns.conns {
		countConn(&ci, e.state)
	}
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
	s.conns.mu.Lock()
	out := make([]ConnInfo, 0, len(s.conns.conns)+len(s.conns.quic))
	for c, e := range s.conns.conns {
		age := now.Sub(e.opened)
		out = append(out, ConnInfo{Remote: c.RemoteAddr().String(), State: e.state.String(),
			Protocol: e.proto, Age: age, AgeText: age.Round(time.Millisecond).String()})
	}
	out = s.conns.quicConnInfos(now, out)
	s.conns.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Age > out[j].Age })
	return out
}
