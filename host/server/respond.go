package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/http/httpguts"

	"github.com/wasmserve/wasmserve/host/reqinfo"
	"github.com/wasmserve/wasmserve/internal/accesslog"
)

// DefaultServerHeader is the Server header value the wasmserve command
// sends unless told otherwise.
const DefaultServerHeader = "wasmserve"

// HeaderRequestID is the header that carries a request's id: kept from the
// client when it is a sane token, else made up; set on the request the guest
// sees and on every response.
const HeaderRequestID = reqinfo.Header

// maxRequestIDLen bounds a client's request id that is kept.
const maxRequestIDLen = 128

// recorder is the server's outermost ResponseWriter: it records the status
// and the bytes sent for the access log and the metrics, and adds the
// default headers, the Server header and the request id when the response
// is committed, unless the response set them itself.
type recorder struct {
	http.ResponseWriter
	s           *Server
	status      int
	bytes       int64
	wroteHeader bool
	closeConn   bool     // commit with Connection: close (see mustClose)
	altSvc      []string // the Alt-Svc header to add: HTTP/3's, over TCP
	streamProto string   // the protocol of an HTTP/2 or HTTP/3 request, for a stalled write
	info        reqinfo.Info
	idValue     []string // the X-Request-Id header value, the request's and the response's
}

var recorders = sync.Pool{New: func() any { return new(recorder) }}

// RequestInfo is the record of the request rw answers.
func (rw *recorder) RequestInfo() *reqinfo.Info { return &rw.info }

// WriteHeader commits the response with the server's headers added.
// Informational responses (1xx but 101) pass through and commit nothing.
func (rw *recorder) WriteHeader(code int) {
	if rw.wroteHeader || (code >= 100 && code < 200 && code != http.StatusSwitchingProtocols) {
		rw.ResponseWriter.WriteHeader(code)
		return
	}
	rw.wroteHeader, rw.status = true, code
	h := rw.ResponseWriter.Header()
	for name, values := range rw.s.cfg.Headers {
		if _, set := h[name]; !set {
			h[name] = values
		}
	}
	if sh := rw.s.cfg.ServerHeader; sh != "" {
		if _, set := h["Server"]; !set {
			h["Server"] = rw.s.serverHeader
		}
	}
	if _, set := h[HeaderRequestID]; !set {
		// Shared with the request's header: its capacity is its
		// length, so an append to either copies.
		h[HeaderRequestID] = rw.idValue
	}
	if rw.altSvc != nil {
		if _, set := h["Alt-Svc"]; !set {
			h["Alt-Svc"] = rw.altSvc
		}
	}
	if rw.closeConn {
		h["Connection"] = connectionClose // over the guest's own value
	}
	rw.ResponseWriter.WriteHeader(code)
}

// connectionClose is the Connection header of a response after which
// net/http closes the connection. Shared by every such response: its
// capacity is its length, so an append copies.
var connectionClose = []string{"close"}

// allowed is the Allow header of the 405 answering CONNECT; shared like
// connectionClose.
var allowed = []string{"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"}

// Write sends body bytes, committing a 200 first if nothing was committed.
func (rw *recorder) Write(b []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.bytes += int64(n)
	if err != nil && rw.streamProto != "" {
		rw.stalled(err)
	}
	return n, err
}

// stalled counts, once, a write of an HTTP/2 or HTTP/3 response that
// passed its deadline: its stream is reset when the handler returns, and
// the connection, which other streams share, stays. (An HTTP/1 connection
// is reset and counted by its stallConn.)
func (rw *recorder) stalled(err error) {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return
	}
	if m := rw.s.cfg.Metrics; m != nil {
		m.WriteTimeout(rw.streamProto)
	}
	rw.streamProto = "" // once
}

// Unwrap gives http.ResponseController the connection's writer (Flush,
// Hijack, deadlines).
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// Flush commits the response and flushes it; for callers that only know
// http.Flusher.
func (rw *recorder) Flush() { rw.FlushError() }

// FlushError is Flush with the error, for http.ResponseController.
func (rw *recorder) FlushError() error {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(rw.ResponseWriter).Flush()
}

// Hijack hands the connection over after a 101 (the h2c upgrade, a
// WebSocket through the upstream proxy).
func (rw *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(rw.ResponseWriter).Hijack()
}

// finish commits what the handler left uncommitted (net/http would send an
// empty 200 without the server's headers).
func (rw *recorder) finish() {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
}

// countingBody counts the request body bytes read, for the metrics.
type countingBody struct {
	body interface {
		Read([]byte) (int, error)
		Close() error
	}
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countingBody) Close() error { return b.body.Close() }

// serveHTTP is the server's outermost handler: request id, default
// headers, compression, then the access log line and the metrics once the
// handler has returned (or aborted). CONNECT is answered here, 405, since
// the server is no forward proxy; a chunked request that also came with
// Content-Length gets its connection closed after the answer.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := recorders.Get().(*recorder)
	*rw = recorder{ResponseWriter: w, s: s}
	rw.info.ID, rw.idValue = requestIDOf(r)
	rw.info.Start = start
	rw.closeConn = r.ProtoMajor == 1 && mustClose(r)
	if r.ProtoMajor >= 2 {
		rw.streamProto = r.Proto
	}
	r.Header[HeaderRequestID] = rw.idValue
	tooEarly := false
	if s.quic != nil {
		if r.ProtoMajor == 3 {
			ok, done := s.quicRequest(r)
			defer done()
			tooEarly = !ok
		} else {
			rw.altSvc = s.quic.altSvc
		}
	}
	var in *countingBody
	if s.cfg.Metrics != nil && r.Body != nil && r.Body != http.NoBody {
		in = &countingBody{body: r.Body}
		r.Body = in
	}
	var span trace.Span
	if s.tracer != nil {
		r, span = s.startServerSpan(r)
	} else {
		rw.info.Untraced = true
	}
	aborted := true
	defer func() {
		if span != nil {
			endServerSpan(span, rw)
		}
		rw.finishRequest(r, in, start, aborted)
	}()
	if r.Method == http.MethodConnect {
		// Not a forward proxy: the guest would see an authority as "/".
		rw.Header()["Allow"] = allowed
		reqinfo.WriteError(rw, http.StatusMethodNotAllowed, "405 method not allowed", rw.info.ID)
		aborted = false
		return
	}
	if tooEarly {
		// Replayable: the client sends it again after the handshake.
		reqinfo.WriteError(rw, http.StatusTooEarly, "425 too early: send the request again after the TLS handshake", rw.info.ID)
		aborted = false
		return
	}
	var next http.ResponseWriter = rw
	if s.compress != nil {
		if cw := s.compress.wrap(rw, r); cw != nil {
			defer cw.close()
			next = cw
		}
	}
	s.handler.ServeHTTP(next, r)
	aborted = false
}

// finishRequest logs and counts the request. An aborted response (the
// handler panicked with http.ErrAbortHandler, cutting it short) is logged
// with its status and counted, and its recorder is not reused, since
// net/http may still hold it.
func (rw *recorder) finishRequest(r *http.Request, in *countingBody, start time.Time, aborted bool) {
	s := rw.s
	if !aborted {
		rw.finish()
	}
	d := time.Since(start)
	if s.cfg.Metrics != nil {
		var bytesIn int64
		if in != nil {
			bytesIn = in.n
		}
		s.cfg.Metrics.ObserveRequest(r, rw.status, bytesIn, rw.bytes, d, &rw.info)
	}
	if s.cfg.AccessLog != nil {
		s.logAccess(r, rw, start.Add(d), d, aborted) // at the end, without a second clock read
	}
	if !aborted {
		*rw = recorder{}
		recorders.Put(rw)
	}
}

// logAccess writes the access-log line of one request: as an
// accesslog.Entry when the logger is accesslog's (a third of the cost of
// the same line through slog's Record), else as slog attributes.
func (s *Server) logAccess(r *http.Request, rw *recorder, end time.Time, d time.Duration, aborted bool) {
	e := accesslog.Entry{Time: end, Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery,
		Proto: r.Proto, Status: rw.status, Bytes: rw.bytes, Duration: d, UserAgent: firstValue(r.Header["User-Agent"]),
		Referer: firstValue(r.Header["Referer"]), App: rw.info.App, Isolate: rw.info.Isolate, RequestID: rw.info.ID, Remote: r.RemoteAddr, Aborted: aborted}
	if s.entries != nil {
		s.entries.Log(&e)
		return
	}
	// A Record made here, with no caller's PC: Logger.LogAttrs would walk
	// the stack for one on every request (a fifth of a line's cost).
	h := s.cfg.AccessLog.Handler()
	if !h.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	rec := slog.NewRecord(e.Time, slog.LevelInfo, "request", 0)
	rec.AddAttrs(e.Attrs()...)
	h.Handle(context.Background(), rec)
}

// firstValue is a header's first value, or "". Indexing the map with the
// canonical key skips what Header.Get does to canonicalize it.
func firstValue(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// requestIDOf returns the request's id and its header value: the
// client's X-Request-Id when it is a sane token (1 to 128 bytes of letters,
// digits and -._:+/=@), else a new id.
func requestIDOf(r *http.Request) (string, []string) {
	if v := r.Header[HeaderRequestID]; len(v) == 1 && saneRequestID(v[0]) {
		return v[0], v[:1:1]
	}
	return reqinfo.NewIDValue()
}

func saneRequestID(s string) bool {
	if len(s) == 0 || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '/' || c == '=' || c == '@') {
			return false
		}
	}
	return true
}

// ParseHeader parses a default response header given as "Name: value".
func ParseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	switch {
	case !ok:
		return "", "", fmt.Errorf("header %q is not 'Name: value'", s)
	case !httpguts.ValidHeaderFieldName(name):
		return "", "", fmt.Errorf("header %q: %q is not a valid header name", s, name)
	case !httpguts.ValidHeaderFieldValue(value):
		return "", "", fmt.Errorf("header %q: the value holds a control character", s)
	}
	return http.CanonicalHeaderKey(name), value, nil
}
