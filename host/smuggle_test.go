package host

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// pathsHandler answers every request with its path and body after trying
// to keep the connection open, and records the paths it was called for.
type pathsHandler struct {
	mu    sync.Mutex
	paths []string
}

func (h *pathsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.paths = append(h.paths, r.URL.Path)
	h.mu.Unlock()
	w.Header().Set("Connection", "keep-alive")
	io.WriteString(w, r.URL.Path+" "+string(body))
}

func (h *pathsHandler) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.paths...)
}

// readAnswer reads one response from br and returns its status and body.
func readAnswer(t *testing.T, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading a response body: %v", err)
	}
	return resp, string(b)
}

// TestChunkedWithContentLengthClosesConnection: a chunked request that
// also carries Content-Length is answered, even when the handler asks to
// keep the connection, with Connection: close and the connection closed,
// so the bytes after its chunked body are never served as a request; on
// a connection that first served a request framed by Content-Length, only
// the ambiguous request closes it.
func TestChunkedWithContentLengthClosesConnection(t *testing.T) {
	t.Parallel()
	const (
		ambiguous = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
		smuggled  = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
		framed    = "POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
	)
	cases := []struct {
		name   string
		writes []string // sent apart, 50 ms between them
		want   []string // the paths answered, in order
	}{
		{"length then chunked", []string{ambiguous + smuggled}, []string{"/a"}},
		{"chunked then length", []string{"POST /a HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\nCONTENT-LENGTH: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + smuggled}, []string{"/a"}},
		{"header split across reads", []string{"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConten", "t-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + smuggled}, []string{"/a"}},
		{"after a request framed by length", []string{framed + ambiguous + smuggled}, []string{"/first", "/a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := new(pathsHandler)
			srv, _ := startServer(t, server.Config{}, h)
			conn, err := net.Dial("tcp", srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for i, w := range c.writes {
				if i > 0 {
					time.Sleep(50 * time.Millisecond)
				}
				if _, err := io.WriteString(conn, w); err != nil {
					t.Fatal(err)
				}
			}
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(conn)
			for i, path := range c.want {
				resp, body := readAnswer(t, br)
				last := i == len(c.want)-1
				if resp.StatusCode != 200 || !strings.HasPrefix(body, path+" ") || resp.Close != last {
					t.Errorf("answer %d: %s %q, Connection %q; want 200 for %s, closing: %v", i, resp.Status, body, resp.Header["Connection"], path, last)
				}
			}
			if _, err := br.ReadByte(); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("after the answer: %v, want the connection closed", err)
			}
			if got := h.seen(); strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("handler called for %q, want %q", got, c.want)
			}
		})
	}
}

// TestChunkedKeepsConnection: chunked requests without Content-Length, and
// one after a request framed by Content-Length, keep the connection open.
func TestChunkedKeepsConnection(t *testing.T) {
	t.Parallel()
	h := new(pathsHandler)
	srv, _ := startServer(t, server.Config{}, h)
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	for i, req := range []string{
		"POST /one HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
		"POST /three HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET /four HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp, body := readAnswer(t, br)
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("request %d: %s %q, closing: %v; want 200 keeping the connection", i, resp.Status, body, resp.Close)
		}
	}
}

// TestConnectRefused: CONNECT is answered 405 with the methods served, in
// front of the guest, and logged and counted like any answer.
func TestConnectRefused(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, faultsWasm(t), HandlerConfig{Isolates: 1})
	var called atomic.Int32
	var logBuf testguest.SyncBuffer
	m := observe.NewMetrics()
	srv, base := startServer(t, server.Config{AccessLog: slog.New(slog.NewJSONHandler(&logBuf, nil)), Metrics: m},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			called.Add(1)
			h.ServeHTTP(w, r)
		}))
	conn := dialRaw(t, base, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, body := readAnswer(t, bufio.NewReader(conn))
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.HasPrefix(body, "405 method not allowed") {
		t.Errorf("answered %s %q, want 405", resp.Status, body)
	}
	if got := resp.Header.Get("Allow"); got != "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" {
		t.Errorf("Allow %q", got)
	}
	if resp.Header.Get(server.HeaderRequestID) == "" {
		t.Errorf("no %s", server.HeaderRequestID)
	}
	if n := called.Load(); n != 0 {
		t.Errorf("the guest was called %d times", n)
	}
	testguest.WaitFor(t, "the access log line", func() bool { return strings.Contains(logBuf.String(), "CONNECT") })
	lines := accessLines(t, logBuf.String())
	if len(lines) != 1 || lines[0]["method"] != "CONNECT" || lines[0]["status"] != float64(405) || lines[0]["isolate"] != "" {
		t.Errorf("access log %v, want one CONNECT 405 line without an isolate", lines)
	}
	fams := scrape(t, adminFor(t, srv, h, m))
	if n := value(t, fams, "wasmserve_http_requests_total", "code", "405", "method", "CONNECT"); n != 1 {
		t.Errorf("%v CONNECT 405 answers counted, want 1", n)
	}
}

// TestPortFileRemoved: the port file is gone after Shutdown or Close, unless
// another process has written its own port into it since.
func TestPortFileRemoved(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		stop    func(*server.Server) error
		rewrite bool
	}{
		{"shutdown", func(s *server.Server) error { return s.Shutdown(context.Background()) }, false},
		{"close", (*server.Server).Close, false},
		{"shutdown then close", func(s *server.Server) error { s.Shutdown(context.Background()); return s.Close() }, false},
		{"rewritten by another process", func(s *server.Server) error { return s.Shutdown(context.Background()) }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			pf := filepath.Join(t.TempDir(), "port")
			srv := server.NewServer(server.Config{Address: "127.0.0.1", PortFile: pf}, http.NotFoundHandler())
			if err := srv.Listen(context.Background()); err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve() }()
			b, err := os.ReadFile(pf)
			if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(srv.Port()) {
				t.Fatalf("port file %q %v, want %d", b, err, srv.Port())
			}
			other := strconv.Itoa(srv.Port()%65535+1) + "\n"
			if c.rewrite {
				if err := os.WriteFile(pf, []byte(other), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.stop(srv); err != nil {
				t.Fatalf("stopping: %v", err)
			}
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
			b, err = os.ReadFile(pf)
			switch {
			case c.rewrite && string(b) != other:
				t.Errorf("the other process's port file: %q %v, want %q kept", b, err, other)
			case !c.rewrite && !errors.Is(err, os.ErrNotExist):
				t.Errorf("port file left behind: %q %v", b, err)
			}
		})
	}
}
