package server

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
)

// A client that stops reading a response fills the kernel's buffers, and
// the response write then blocks until the write deadline the request set
// (the handler's write timeout). The write fails there, but a connection
// closed with unsent bytes in its send buffer lingers: the kernel keeps
// the socket, and the bytes, trying to deliver them to a window that
// never opens (FIN_WAIT1, for minutes). So a TCP connection whose write
// passed its deadline is reset at once instead (SO_LINGER 0: the buffer is
// dropped and the client gets a RST), and counted.

// stallListener wraps a listener's connections in stallConns.
type stallListener struct {
	net.Listener
	s *Server
}

// Accept returns the next connection, wrapped.
func (l stallListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stallConn{Conn: c, s: l.s}, nil
}

// stallConn resets its connection when a write passes its deadline.
type stallConn struct {
	net.Conn
	s   *Server
	cut atomic.Bool
}

// Write writes to the connection, and resets it if the write deadline
// passed.
func (c *stallConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.stalled(err)
	}
	return n, err
}

// ReadFrom keeps the connection's own ReadFrom (sendfile, splice) for
// net/http's response writer.
func (c *stallConn) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	var err error
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{c.Conn}, r)
	}
	if err != nil {
		c.stalled(err)
	}
	return n, err
}

// CloseWrite half-closes the connection, so that net/http can send its
// last response before closing the connection in full.
func (c *stallConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("connection cannot half-close")
}

// stalled resets the connection, once, when err is a passed write
// deadline. The only write deadlines on a TCP connection are those an
// HTTP/1 request sets (HTTP/2 bounds its streams' writes with timers of
// its own), so it counts an HTTP/1.1 response.
func (c *stallConn) stalled(err error) {
	if !errors.Is(err, os.ErrDeadlineExceeded) || !c.cut.CompareAndSwap(false, true) {
		return
	}
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Conn.Close()
	if m := c.s.cfg.Metrics; m != nil {
		m.WriteTimeout("HTTP/1.1")
	}
	if l := c.s.cfg.Logger; l != nil {
		l.Debug("the client stopped reading a response past the write timeout; connection reset",
			"remote", c.Conn.RemoteAddr().String())
	}
}
