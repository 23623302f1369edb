package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

func hostileWasm(t *testing.T) []byte { return readFile(t, "host/testdata/hostile.wasm") }

// dialRaw opens a TCP connection to base (http://host:port) and writes req.
func dialRaw(t *testing.T, base, req string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	return c
}

// untilOK polls GET url until it answers 200, for at most within, and
// returns how long that took; it fails the test if it never does.
func untilOK(t *testing.T, url string, within time.Duration) time.Duration {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	start := time.Now()
	var last string
	for time.Since(start) < within {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start)
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no 200 from %s within %s; last: %s", url, within, last)
	return 0
}

// TestStalledBodyReadersDoNotHoldIsolates: two clients that send their
// headers and 1 of 1000 body bytes, then stall, hold both isolates no longer
// than the handler timeout: others are served, the stalled clients get 408
// and their connections are closed, and the isolates are kept.
func TestStalledBodyReadersDoNotHoldIsolates(t *testing.T) {
	base, h, logs := startConfig(t, hostileWasm(t), HandlerConfig{Isolates: 2, HandlerTimeout: 2 * time.Second,
		QueueTimeout: 200 * time.Millisecond}, server.Config{})
	var conns []net.Conn
	for range 2 {
		conns = append(conns, dialRaw(t, base, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nx"))
	}
	testguest.WaitFor(t, "both isolates busy", func() bool { return h.Pool().Idle() == 0 })
	took := untilOK(t, base+"/other", 10*time.Second)
	t.Logf("another client was served 200 after %v (handler timeout 2s)", took)
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("stalled client %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("stalled client %d: %s, want 408", i, resp.Status)
		}
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("stalled client %d: connection still open (%v)", i, err)
		}
	}
	if n := h.Pool().Replaced(); n != 0 {
		t.Errorf("%d isolates replaced; a stalled client is not the guest's fault", n)
	}
	if strings.Contains(logs.String(), "guest failed") {
		t.Errorf("a client's stall logged as a guest failure:\n%s", logs)
	}
}

// TestDeadlinesEndWithTheirRequest: the read and write deadlines a request
// sets (300 ms here) do not outlive it: on one keep-alive connection, after
// waiting past both, requests with and without a body, the body read or
// not, are still answered in full.
func TestDeadlinesEndWithTheirRequest(t *testing.T) {
	base, _, _ := startConfig(t, hostileWasm(t), HandlerConfig{Isolates: 1, HandlerTimeout: 5 * time.Second,
		ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond}, server.Config{})
	c := dialRaw(t, base, "")
	br := bufio.NewReader(c)
	for i, tc := range []struct{ req, want string }{
		{"GET /other HTTP/1.1\r\nHost: x\r\n\r\n", ""},
		{"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "5"},
		{"POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", ""}, // body left unread
		{"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "3"},
		{"GET /other HTTP/1.1\r\nHost: x\r\n\r\n", ""},
	} {
		if i > 0 {
			time.Sleep(500 * time.Millisecond) // past the deadlines the last request set
		}
		if _, err := io.WriteString(c, tc.req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d on the kept-alive connection: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || tc.want != "" && string(body) != tc.want {
			t.Errorf("request %d: %s %q %v, want 200 %q", i, resp.Status, body, err, tc.want)
		}
	}
}

// TestStalledResponseReaderIsCut: a client that never reads a 50 MiB
// response holds the isolate no longer than the write timeout (capped by
// the handler timeout, 2 s), and its connection is then reset: it reads
// what reached it and then ECONNRESET, not the rest of the response nor
// an orderly close the kernel would keep trying to deliver.
func TestStalledResponseReaderIsCut(t *testing.T) {
	base, h, _ := startConfig(t, hostileWasm(t), HandlerConfig{Isolates: 1, HandlerTimeout: 2 * time.Second,
		QueueTimeout: 200 * time.Millisecond}, server.Config{})
	c := dialRaw(t, base, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	c.(*net.TCPConn).SetReadBuffer(4096)
	testguest.WaitFor(t, "the isolate busy", func() bool { return h.Pool().Idle() == 0 })
	took := untilOK(t, base+"/other", 10*time.Second)
	t.Logf("another client was served 200 after %v (handler timeout 2s)", took)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if n >= 50<<20 {
		t.Errorf("read %d bytes: the whole response, not cut", n)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("after %d bytes the client read %v, want ECONNRESET", n, err)
	}
}

// TestSleepEndsAtHandlerTimeout: a guest sleeping 20 s in WASI poll_oneoff
// is answered 504 at the handler timeout (2 s), not after its sleep.
func TestSleepEndsAtHandlerTimeout(t *testing.T) {
	base, _, _ := startConfig(t, hostileWasm(t), HandlerConfig{Isolates: 1, HandlerTimeout: 2 * time.Second}, server.Config{})
	client := &http.Client{Timeout: 15 * time.Second} // under the 20 s sleep
	resp, err := client.Get(base + "/sleep")
	if err != nil {
		t.Fatalf("the sleeping guest was not interrupted: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("status %s, want 504", resp.Status)
	}
	untilOK(t, base+"/other", 10*time.Second)
}

// TestManyRequestHeadersGoGuest: the Go hello guest answers a request with
// 10 000 headers within a 2 s handler timeout (it took 3 s and more when
// each get_header_values scanned every header).
func TestManyRequestHeadersGoGuest(t *testing.T) {
	base, _, _ := startConfig(t, testguest.Read(t, "hello"), HandlerConfig{Isolates: 1, HandlerTimeout: 2 * time.Second}, server.Config{})
	req, _ := http.NewRequest("GET", base+"/many", nil)
	for i := range 10000 {
		req.Header[fmt.Sprintf("X-H%05d", i)] = []string{"v"}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "Hello from wasmserve: /many\n" {
		t.Errorf("%s %q, want 200 and the greeting", resp.Status, b)
	}
}

// TestGuestBuffersBounded: what a guest can make the host hold is bounded,
// and going over traps that call (500): a request body written for the next
// handler (1 GiB tried, bounded by MaxBody), response headers (2000 × 64 KiB
// tried, bounded by 1 MiB); and the host's heap stays small.
func TestGuestBuffersBounded(t *testing.T) {
	base, _, logs := startConfig(t, hostileWasm(t), HandlerConfig{Isolates: 1, MaxBody: 1 << 20}, server.Config{})
	cases := []struct{ path, want string }{
		{"/request", "write_body: the request body written for the next handler exceeds 1048576 bytes"},
		{"/headers", "add_header_value: the response headers and trailers the guest set exceed 1048576 bytes"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			code, body, _ := fetch(t, "GET", base+c.path, nil)
			if code != 500 || !genericBody.MatchString(body) {
				t.Errorf("%d %q, want a generic 500", code, body)
			}
			if !strings.Contains(logs.String(), c.want) {
				t.Errorf("log lacks %q:\n%.2000s", c.want, logs)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > 256<<20 {
				t.Errorf("host heap %d MiB after the request", ms.HeapInuse>>20)
			}
		})
	}
}

// rawLog is a slog handler that writes each message as it is, one line per
// record, like the text format of the CLI's logger: what a guest's bytes
// can do to a terminal or a log file shows.
type rawLog struct {
	mu sync.Mutex
	w  *testguest.SyncBuffer
	n  int
}

func (l *rawLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *rawLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *rawLog) WithGroup(string) slog.Handler            { return l }
func (l *rawLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	l.w.Write([]byte(r.Level.String() + " " + r.Message + "\n"))
	return nil
}

// TestGuestLogSafe: a guest's log() messages are rate-limited with the
// guest output (2000 messages of 64 KiB in one request), cut to
// MaxLogMessage, and cannot forge a line or reach the terminal with an
// escape sequence.
func TestGuestLogSafe(t *testing.T) {
	out := new(testguest.SyncBuffer)
	raw := &rawLog{w: out}
	h, err := NewHandler(context.Background(), hostileWasm(t), HandlerConfig{Isolates: 1, OutputRate: 10,
		CacheDir: testguest.CacheDir(t), Logger: slog.New(raw)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	srv := server.NewServer(server.Config{Address: "127.0.0.1"}, h)
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer srv.Shutdown(context.Background())
	base := "http://" + srv.Addr().String()

	if code, _, _ := fetch(t, "GET", base+"/forge", nil); code != 200 {
		t.Fatalf("/forge: %d", code)
	}
	log := out.String()
	if strings.Contains(log, "\n2026-01-01 ERRO") || strings.Contains(log, "\x1b") {
		t.Errorf("a guest message forged a line or wrote an escape sequence:\n%q", log[max(0, len(log)-400):])
	}
	if !strings.Contains(log, `guest says hi\n2026-01-01 ERRO guest failed request_id=forged\x1b[31mred`) {
		t.Errorf("the forged message is not in the log, escaped:\n%q", log[max(0, len(log)-400):])
	}
	if code, _, _ := fetch(t, "GET", base+"/log", nil); code != 200 {
		t.Fatalf("/log: %d", code)
	}
	if n := len(out.String()) - len(log); n > 200<<10 {
		t.Errorf("%d bytes of log for one request (2000 × 64 KiB tried)", n)
	}
}

// TestMalformedClientBody: a bad chunked encoding, or a client hanging up
// in the middle of its body, is the client's fault: 400 (when the client is
// still there), the isolate kept, a debug line, no guest failure logged.
func TestMalformedClientBody(t *testing.T) {
	base, h, logs := startConfig(t, hostileWasm(t), HandlerConfig{Isolates: 1}, server.Config{})
	c := dialRaw(t, base, "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad chunked body: %s, want 400", resp.Status)
	}
	hangup := dialRaw(t, base, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
	time.Sleep(50 * time.Millisecond) // let the guest start reading; not an assertion
	hangup.Close()
	testguest.WaitFor(t, "two malformed bodies logged", func() bool {
		return strings.Count(logs.String(), "client sent a malformed body") == 2
	})
	if !strings.Contains(logs.String(), "level=DEBUG msg=\"client sent a malformed body\"") {
		t.Errorf("not logged at debug level:\n%s", logs)
	}
	waitFull(t, h)
	if n := h.Pool().Replaced(); n != 0 {
		t.Errorf("%d isolates replaced; a malformed body is not the guest's fault", n)
	}
	if strings.Contains(logs.String(), "guest failed") {
		t.Errorf("a client's malformed body logged as a guest failure:\n%s", logs)
	}
	if code, body, _ := fetch(t, "POST", base+"/upload", strings.NewReader("12345")); code != 200 || body != "5" {
		t.Errorf("a good upload after: %d %q", code, body)
	}
}

// TestGuestFramingHeaders: the framing a guest tries to put on the wire
// (two Content-Lengths, Transfer-Encoding gzip and chunked twice,
// Connection, Keep-Alive, Upgrade, Proxy-Connection) never reaches it, over
// HTTP/1.1 and HTTP/2 (whose clients reject a stream with any of them).
func TestGuestFramingHeaders(t *testing.T) {
	h := newTestHandler(t, hostileWasm(t), HandlerConfig{Isolates: 1})
	h2url, h2client := startTLS(t, h)
	cases := []struct {
		name   string
		url    string
		client *http.Client
		proto  int
	}{
		{"HTTP/1.1", startPlain(t, h), &http.Client{Transport: &http.Transport{}}, 1},
		{"HTTP/2", h2url, h2client, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := c.client.Get(c.url + "/framing")
			if err != nil {
				t.Fatalf("the client refused the response: %v", err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(b) != "hello" || resp.ProtoMajor != c.proto {
				t.Fatalf("%s %q %v, want HTTP/%d and hello", resp.Proto, b, err, c.proto)
			}
			for _, k := range []string{"Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Proxy-Connection"} {
				if v, ok := resp.Header[k]; ok {
					t.Errorf("%s: %q reached the client", k, v)
				}
			}
			if len(resp.TransferEncoding) > 0 {
				t.Errorf("transfer encoding %q", resp.TransferEncoding)
			}
			if resp.ContentLength != 5 && resp.ContentLength != -1 {
				t.Errorf("content length %d for a 5-byte body", resp.ContentLength)
			}
		})
	}
}

// TestTableGrowIsBounded: a guest whose table has no maximum asks
// table.grow for 2^31 elements (16 GiB of host memory; it killed the server
// with "fatal error: out of memory"). The grow fails inside the guest,
// which answers, and the server goes on serving, with the interrupt
// rewrite (a handler timeout) and without it.
func TestTableGrowIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  HandlerConfig
	}{
		{"no handler timeout", HandlerConfig{Isolates: 1}},
		{"handler timeout", HandlerConfig{Isolates: 1, HandlerTimeout: 5 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, _, _ := startConfig(t, readFile(t, "host/testdata/growtable.wasm"), tc.cfg, server.Config{})
			for i := range 3 {
				resp, body := do(t, http.DefaultClient, mustRequest(t, "GET", base+"/", nil))
				if resp.StatusCode != 200 || body != "refused" {
					t.Fatalf("request %d: %s %q, want 200 \"refused\"", i, resp.Status, body)
				}
			}
		})
	}
}
