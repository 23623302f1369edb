package host

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// origin is an upstream that echoes what reached it in response headers
// and answers its body back, with a response trailer.
func origin(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("origin reading body: %v", err)
		}
		h := w.Header()
		h.Set("Trailer", "X-Origin-Trailer")
		h.Set("X-Got-Method", r.Method)
		h.Set("X-Got-Uri", r.RequestURI)
		h.Set("X-Got-Host", r.Host)
		h.Set("X-Got-Edge", r.Header.Get("X-Edge"))
		h.Set("X-Got-First", r.Header.Get("X-First"))
		h.Set("X-Got-Forwarded-For", r.Header.Get("X-Forwarded-For"))
		h.Set("X-Got-Forwarded-Proto", r.Header.Get("X-Forwarded-Proto"))
		h.Set("X-Got-Connection", r.Header.Get("X-Hop"))
		h.Set("X-Got-Trailer", r.Trailer.Get("X-Sum"))
		w.WriteHeader(http.StatusAccepted)
		w.Write(body)
		h.Set("X-Origin-Trailer", "done")
	}))
	t.Cleanup(s.Close)
	return s
}

func do(t *testing.T, client *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestMiddlewareProxiesTheRequestAsTheGuestLeftIt(t *testing.T) {
	up := origin(t)
	h := newTestHandler(t, readFile(t, "host/testdata/middleware.wasm"), withHTTPWasm(HandlerConfig{Isolates: 2}, httpwasm.Config{Upstream: up.URL}))
	base := startPlain(t, h)
	req, _ := http.NewRequest("POST", base+"/users?id=1", strings.NewReader("payload"))
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "must not pass")
	resp, body := do(t, http.DefaultClient, req)
	want := map[string]string{
		"X-Got-Method":          "POST",
		"X-Got-Uri":             "/v2/users?id=1",
		"X-Got-Edge":            "wasmserve",
		"X-Got-Host":            strings.TrimPrefix(base, "http://"),
		"X-Got-Forwarded-For":   "127.0.0.1",
		"X-Got-Forwarded-Proto": "http",
		"X-Got-Connection":      "",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if resp.StatusCode != http.StatusAccepted || body != "payload" {
		t.Errorf("got %d %q, want the origin's 202 %q", resp.StatusCode, body, "payload")
	}
	if got := resp.Trailer.Get("X-Origin-Trailer"); got != "done" {
		t.Errorf("origin trailer = %q, want it passed through", got)
	}
}

func TestMiddlewareWithoutUpstreamAnswers404(t *testing.T) {
	h := newTestHandler(t, readFile(t, "host/testdata/middleware.wasm"), HandlerConfig{Isolates: 1})
	resp, _ := do(t, http.DefaultClient, mustRequest(t, "GET", startPlain(t, h)+"/", nil))
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
}

func mustRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestBufferResponse(t *testing.T) {
	up := origin(t)
	// A port that was free a moment ago: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name       string
		upstream   string
		max        int64
		reqBody    string
		wantStatus int
		wantBody   string
		wantLog    string
	}{
		{"rewrites status and body", up.URL, 0, "abcdefghijklmnopq", 201, "[abcdefghijklmnopq]", ""},
		{"empty upstream body", up.URL, 0, "", 201, "[]", ""},
		{"unreachable upstream gives is_error", dead, 0, "x", 503, "upstream down", "upstream request failed"},
		{"body over the bound gives is_error", up.URL, 8, "0123456789", 503, "upstream down", "exceeds the buffer_response limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs testguest.SyncBuffer
			h := newTestHandler(t, readFile(t, "host/testdata/bufresp.wasm"), withHTTPWasm(HandlerConfig{
				Isolates: 1,
				Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
			}, httpwasm.Config{Upstream: tc.upstream, MaxBufferedBody: tc.max}))
			for _, proto := range []string{"h1", "h2"} {
				var resp *http.Response
				var body string
				if proto == "h1" {
					resp, body = do(t, http.DefaultClient, mustRequest(t, "POST", startPlain(t, h)+"/", strings.NewReader(tc.reqBody)))
				} else {
					url, client := startTLS(t, h)
					resp, body = do(t, client, mustRequest(t, "POST", url+"/", strings.NewReader(tc.reqBody)))
				}
				if resp.StatusCode != tc.wantStatus || body != tc.wantBody {
					t.Errorf("%s: got %d %q, want %d %q", proto, resp.StatusCode, body, tc.wantStatus, tc.wantBody)
				}
				if tc.wantStatus == 201 {
					if resp.Header.Get("X-Upstream-Was-200") != "" {
						t.Errorf("%s: guest read status 200, want the origin's 202", proto)
					}
					if resp.Header.Get("X-Got-Method") != "POST" {
						t.Errorf("%s: origin headers lost: %v", proto, resp.Header)
					}
					if got := resp.Trailer.Get("X-Origin-Trailer"); got != "done" {
						t.Errorf("%s: origin trailer %q, want it kept through buffering", proto, got)
					}
				}
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, logs.String())
			}
			if h.Pool().Replaced() != 0 {
				t.Errorf("%d isolates replaced: a failing upstream must not break the isolate", h.Pool().Replaced())
			}
		})
	}
}

// slowBody yields its chunks one Read at a time with a pause between, so
// that the server receives the body in several reads.
type slowBody struct{ chunks []string }

func (s *slowBody) Read(p []byte) (int, error) {
	if len(s.chunks) == 0 {
		return 0, io.EOF
	}
	time.Sleep(5 * time.Millisecond)
	n := copy(p, s.chunks[0])
	s.chunks[0] = s.chunks[0][n:]
	if s.chunks[0] == "" {
		s.chunks = s.chunks[1:]
	}
	return n, nil
}

func TestBufferRequestForwardsTheWholeBody(t *testing.T) {
	up := origin(t)
	h := newTestHandler(t, readFile(t, "host/testdata/bufreq.wasm"), withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{Upstream: up.URL}))
	base := startPlain(t, h)
	url, client := startTLS(t, h)
	big := strings.Repeat("0123456789", 5000)
	tests := []struct {
		name   string
		chunks []string
		first  string
	}{
		{"empty", nil, ""},
		{"shorter than the guest reads", []string{"ab"}, "ab"},
		{"several small reads", []string{"a", "b", "c", "d", "e", "f", "g"}, "abcde"},
		{"large in pieces", []string{big[:3], big[3:40000], big[40000:]}, "01234"},
	}
	for _, tc := range tests {
		for _, proto := range []string{"h1", "h2"} {
			t.Run(tc.name+"/"+proto, func(t *testing.T) {
				want := strings.Join(tc.chunks, "")
				target, c := base, http.DefaultClient
				if proto == "h2" {
					target, c = url, client
				}
				req := mustRequest(t, "POST", target+"/", &slowBody{chunks: append([]string(nil), tc.chunks...)})
				resp, body := do(t, c, req)
				if resp.StatusCode != http.StatusAccepted {
					t.Fatalf("status %d", resp.StatusCode)
				}
				if body != want {
					t.Errorf("upstream got %d bytes, want all %d", len(body), len(want))
				}
				if got := resp.Header.Get("X-Got-First"); got != tc.first {
					t.Errorf("guest read %q, want %q", got, tc.first)
				}
			})
		}
	}
}

func TestTrailers(t *testing.T) {
	h := newTestHandler(t, readFile(t, "host/testdata/trailers.wasm"), HandlerConfig{Isolates: 1})
	base := startPlain(t, h)
	url, client := startTLS(t, h)
	for _, proto := range []string{"h1 chunked", "h2"} {
		t.Run(proto, func(t *testing.T) {
			target, c := base, http.DefaultClient
			if proto == "h2" {
				target, c = url, client
			}
			req := mustRequest(t, "POST", target+"/", &slowBody{chunks: []string{"some ", "body"}})
			req.ContentLength = -1 // chunked on HTTP/1.1, the only way to send trailers
			req.Trailer = http.Header{"X-Sum": {"42"}}
			resp, body := do(t, c, req)
			if body != "ok" {
				t.Errorf("body %q", body)
			}
			if proto == "h1 chunked" && len(resp.TransferEncoding) == 0 {
				t.Error("response not chunked")
			}
			if got := resp.Trailer.Get("X-Echo-Sum"); got != "42" {
				t.Errorf("response trailer x-echo-sum = %q, want the request trailer's 42", got)
			}
		})
	}
}

func TestRequestTrailersReachTheUpstream(t *testing.T) {
	up := origin(t)
	h := newTestHandler(t, readFile(t, "host/testdata/next.wasm"), withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{Upstream: up.URL}))
	req := mustRequest(t, "POST", startPlain(t, h)+"/", &slowBody{chunks: []string{"a", "b"}})
	req.ContentLength = -1
	req.Trailer = http.Header{"X-Sum": {"7"}}
	resp, body := do(t, http.DefaultClient, req)
	if body != "ab" {
		t.Errorf("body %q", body)
	}
	if got := resp.Header.Get("X-Got-Trailer"); got != "7" {
		t.Errorf("upstream saw request trailer %q, want 7", got)
	}
}

func TestGuestConfigAndLog(t *testing.T) {
	var logs testguest.SyncBuffer
	h := newTestHandler(t, readFile(t, "host/testdata/configlog.wasm"), withHTTPWasm(HandlerConfig{
		Isolates: 1,
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	}, httpwasm.Config{GuestConfig: []byte(`{"greeting":"hi"}`)}))
	resp, body := do(t, http.DefaultClient, mustRequest(t, "GET", startPlain(t, h)+"/", nil))
	if resp.StatusCode != 200 || body != `{"greeting":"hi"}` {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), `greeting`) || !strings.Contains(logs.String(), "isolate=") {
		t.Errorf("guest log line missing or untagged:\n%s", logs.String())
	}
}

// TestGuestConfigAndLogInStart: a start function may read its config and
// log, as a Go guest calling guest.Config() in init does, before the
// isolate is bound.
func TestGuestConfigAndLogInStart(t *testing.T) {
	var logs testguest.SyncBuffer
	h := newTestHandler(t, readFile(t, "host/testdata/startconfig.wasm"), withHTTPWasm(HandlerConfig{
		Isolates: 1,
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	}, httpwasm.Config{GuestConfig: []byte(`started-with-config`)}))
	resp, body := do(t, http.DefaultClient, mustRequest(t, "GET", startPlain(t, h)+"/", nil))
	if resp.StatusCode != 200 || body != "started-with-config" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "started-with-config") {
		t.Errorf("the start function's log line is missing:\n%s", logs.String())
	}
}

func TestStartFunctions(t *testing.T) {
	t.Run("command whose _start returns", func(t *testing.T) {
		h := newTestHandler(t, readFile(t, "abi/testdata/command.wasm"), HandlerConfig{Isolates: 1})
		resp, _ := do(t, http.DefaultClient, mustRequest(t, "GET", startPlain(t, h)+"/", nil))
		if resp.StatusCode != 203 {
			t.Errorf("status %d, want the 203 _start set up", resp.StatusCode)
		}
	})
	t.Run("_start ending in proc_exit(0) is refused", func(t *testing.T) {
		_, err := NewHandler(context.Background(), readFile(t, "abi/testdata/procexit.wasm"), HandlerConfig{Isolates: 1})
		if err == nil || !strings.Contains(err.Error(), "proc_exit(0)") || !strings.Contains(err.Error(), "_initialize") {
			t.Errorf("err = %v, want a refusal naming proc_exit(0) and the fix", err)
		}
	})
}

func TestInspect(t *testing.T) {
	tests := []struct {
		file    string
		ok      bool
		problem string
	}{
		{"host/testdata/middleware.wasm", true, ""},
		{"abi/testdata/procexit.wasm", false, "proc_exit(0)"},
		{"cmd/wasmserve/testdata/badimport.wasm", false, "does not define"},
		{"cmd/wasmserve/testdata/nohandler.wasm", false, "handle_request"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			rep, err := Inspect(context.Background(), readFile(t, tc.file), HandlerConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() != tc.ok || !strings.Contains(strings.Join(rep.Problems, "\n"), tc.problem) {
				t.Errorf("ok=%v problems=%q, want ok=%v and %q", rep.OK(), rep.Problems, tc.ok, tc.problem)
			}
		})
	}
}

func TestHTTP2Upstream(t *testing.T) {
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Got-Proto", r.Proto)
		w.Write(body)
	}))
	up.EnableHTTP2 = true
	up.StartTLS()
	t.Cleanup(up.Close)
	// Trust the test origin's certificate: the proxy's transport is a
	// clone of http.DefaultTransport, made with the handler, so the
	// default transport trusts it for that long (no parallel test runs
	// meanwhile).
	h := func() *Handler {
		dt := http.DefaultTransport.(*http.Transport)
		defer func(saved *tls.Config) { dt.TLSClientConfig = saved }(dt.TLSClientConfig)
		dt.TLSClientConfig = up.Client().Transport.(*http.Transport).TLSClientConfig
		return newTestHandler(t, readFile(t, "host/testdata/middleware.wasm"), withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{Upstream: up.URL}))
	}()
	resp, body := do(t, http.DefaultClient, mustRequest(t, "POST", startPlain(t, h)+"/", strings.NewReader("streamed")))
	if got := resp.Header.Get("X-Got-Proto"); got != "HTTP/2.0" || body != "streamed" {
		t.Errorf("origin saw %q and answered %q, want HTTP/2.0 and the body", got, body)
	}
}

// TestUpgradeThroughMiddleware: a protocol upgrade (WebSocket style) passes
// through the guest to the origin and the connection becomes a raw tunnel.
func TestUpgradeThroughMiddleware(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want an upgrade", 400)
			return
		}
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "echo")
		w.WriteHeader(http.StatusSwitchingProtocols)
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("origin hijack: %v", err)
			return
		}
		defer conn.Close()
		rw.Flush()
		line, _ := rw.ReadString('\n')
		rw.WriteString("echo: " + line)
		rw.Flush()
	}))
	t.Cleanup(up.Close)
	h := newTestHandler(t, readFile(t, "host/testdata/middleware.wasm"), withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{Upstream: up.URL}))
	base := startPlain(t, h)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	buf := make([]byte, 4096)
	var got []byte
	for !bytes.Contains(got, []byte("\r\n\r\n")) {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("reading the 101: %v (got %q)", err, got)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 101")) {
		t.Fatalf("got %q, want 101 Switching Protocols", got)
	}
	io.WriteString(conn, "ping\n")
	rest := got[bytes.Index(got, []byte("\r\n\r\n"))+4:]
	for !bytes.Contains(rest, []byte("\n")) {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("reading the tunnel: %v (got %q)", err, rest)
		}
		rest = append(rest, buf[:n]...)
	}
	if string(rest) != "echo: ping\n" {
		t.Errorf("tunnel answered %q", rest)
	}
}
