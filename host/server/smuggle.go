package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
)

// A request carrying both Content-Length and Transfer-Encoding: chunked is
// framed by the chunked coding (RFC 9112 §6.3), but an intermediary in
// front may have framed it by Content-Length: the bytes after the chunked
// body can be a request the intermediary never saw. RFC 9112 §6.1 has the
// server close the connection after answering such a request. net/http
// removes Content-Length from the request's headers when the request is
// chunked, so the server cannot see it there: lengthScanListener counts
// Content-Length header lines in the bytes of each plain-HTTP connection
// instead, and serveHTTP closes the connection after a chunked request that
// came with one (see mustClose).
//
// Over TLS the bytes are encrypted below net/http, which needs the
// *tls.Conn itself, so a TLS connection is not scanned: there the request
// is served as net/http serves it (chunked framing, the connection kept).

// lengthLine is what a Content-Length header line starts with, lower case,
// with the line feed that ends the line before it.
const lengthLine = "\ncontent-length:"

// lengthLine after its line feed as two overlapping little-endian words,
// "content-" and "-length:", and the bits that fold their letters (and
// only their letters) to lower case.
const (
	lengthWord0 = 0x2d746e65746e6f63
	lengthWord1 = 0x3a6874676e656c2d
	lengthFold0 = 0x0020202020202020
	lengthFold1 = 0x0020202020202000
)

// lengthScanListener wraps a plain-HTTP listener's connections in
// lengthScanConns.
type lengthScanListener struct{ net.Listener }

// Accept returns the next connection, wrapped.
func (l lengthScanListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &lengthScanConn{Conn: c}, nil
}

// lengthScanConn counts the lines starting with "Content-Length:" (any
// case) in the bytes read from its connection. It counts body bytes too,
// and lines of requests read ahead: a count too high only costs a
// connection closed without need, and a request's own header lines are
// always counted before the request is served.
type lengthScanConn struct {
	net.Conn
	// lengths is the Content-Length lines read and not yet accounted for
	// by a request served; read by the handler while net/http's
	// background read may add to it.
	lengths atomic.Int64
	// at is how much of lengthLine the bytes read so far end with; only
	// Read touches it, and net/http reads from one goroutine at a time.
	at int
}

// Read reads from the connection and scans what it read.
func (c *lengthScanConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.scan(p[:n])
	}
	return n, err
}

// scan counts the lengthLine matches in b, carrying a partial match at its
// end over to the next read. Only the 15 bytes after each line feed are
// compared, two words at once, so the cost is about one bytes.IndexByte
// per line.
func (c *lengthScanConn) scan(b []byte) {
	i := 0
	if c.at > 0 {
		if i = c.follow(b); i < 0 {
			return
		}
	}
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return
		}
		i += j + 1
		if i+len(lengthLine)-1 <= len(b) {
			if binary.LittleEndian.Uint64(b[i:])|lengthFold0 == lengthWord0 &&
				binary.LittleEndian.Uint64(b[i+7:])|lengthFold1 == lengthWord1 {
				c.lengths.Add(1)
				i += len(lengthLine) - 1
			}
			continue
		}
		c.at = 1 // the line feed; b ends within the next 14 bytes
		n := c.follow(b[i:])
		if n < 0 {
			return
		}
		i += n
	}
}

// follow compares the start of b with the rest of lengthLine after the
// c.at bytes matched so far, counting a match. It returns how many bytes
// of b it compared (a mismatching byte not included, as it may be a line
// feed), or -1 when b ended within the match: c.at then says how far it
// got.
func (c *lengthScanConn) follow(b []byte) int {
	k, n := c.at, 0
	c.at = 0
	for ; k < len(lengthLine); n, k = n+1, k+1 {
		if n == len(b) {
			c.at = k
			return -1
		}
		ch, want := b[n], lengthLine[k]
		if want >= 'a' {
			ch |= 0x20 // a letter of either case
		}
		if ch != want {
			return n
		}
	}
	c.lengths.Add(1)
	return n
}

// CloseWrite half-closes the connection, so that net/http can send its
// last response before closing the connection in full.
func (c *lengthScanConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("connection cannot half-close")
}

// ReadFrom keeps the connection's own ReadFrom (sendfile, splice) for
// net/http's response writer.
func (c *lengthScanConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// lengthScanKey is the request context key of a request's lengthScanConn.
type lengthScanKey struct{}

// withLengthScan is the http.Server's ConnContext: it puts a scanned
// connection in the context of its requests.
func withLengthScan(ctx context.Context, c net.Conn) context.Context {
	if sc, ok := c.(*lengthScanConn); ok {
		return context.WithValue(ctx, lengthScanKey{}, sc)
	}
	return ctx
}

// mustClose reports whether the connection of r, an HTTP/1 request, must
// be closed after answering it because r is chunked and came with a
// Content-Length line too. A request that is not chunked accounts for its
// own Content-Length, so that a chunked request later on the same
// connection is judged by its own headers. Requests not on a scanned
// connection (TLS, another http.Server) are never closed for it.
func mustClose(r *http.Request) bool {
	chunked := len(r.TransferEncoding) > 0
	lengths := len(r.Header["Content-Length"])
	if !chunked && lengths == 0 {
		return false
	}
	sc, _ := r.Context().Value(lengthScanKey{}).(*lengthScanConn)
	if sc == nil {
		return false
	}
	if !chunked {
		sc.lengths.Add(-int64(lengths))
		return false
	}
	return sc.lengths.Load() > 0
}
