package host

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestDefaultAndServerHeaders: --header values and the Server header are on
// every response, and a header the handler set itself wins.
func TestDefaultAndServerHeaders(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/own":
			w.Header().Set("X-Frame-Options", "SAMEORIGIN")
			w.Header().Set("Server", "guest/1.0")
			w.Header().Set(server.HeaderRequestID, "guest-id")
		case "/silent":
			return // nothing written: the server's empty 200
		}
		io.WriteString(w, "hi")
	})
	hdr := http.Header{}
	hdr.Add("x-frame-options", "DENY")
	hdr.Add("Strict-Transport-Security", "max-age=63072000")
	cases := []struct {
		name, path, serverHeader string
		wantFrame, wantServer    string
		wantID                   string // "" = any non-empty
	}{
		{"defaults", "/", server.DefaultServerHeader, "DENY", "wasmserve", ""},
		{"nothing written", "/silent", server.DefaultServerHeader, "DENY", "wasmserve", ""},
		{"handler's own win", "/own", server.DefaultServerHeader, "SAMEORIGIN", "guest/1.0", "guest-id"},
		{"no Server header", "/", "", "DENY", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, base := startServer(t, server.Config{Headers: hdr, ServerHeader: c.serverHeader}, handler)
			resp, err := http.Get(base + c.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("X-Frame-Options"); got != c.wantFrame {
				t.Errorf("X-Frame-Options %q, want %q", got, c.wantFrame)
			}
			if got := resp.Header.Values("Server"); c.wantServer == "" && len(got) != 0 || c.wantServer != "" && (len(got) != 1 || got[0] != c.wantServer) {
				t.Errorf("Server %q, want %q", got, c.wantServer)
			}
			if resp.Header.Get("Strict-Transport-Security") != "max-age=63072000" {
				t.Errorf("Strict-Transport-Security %q", resp.Header.Get("Strict-Transport-Security"))
			}
			id := resp.Header.Get(server.HeaderRequestID)
			if id == "" || c.wantID != "" && id != c.wantID {
				t.Errorf("X-Request-Id %q, want %q", id, c.wantID)
			}
		})
	}
}

// TestRequestID: a client's sane id is kept, on the request the handler
// sees and on the response; anything else is replaced by a fresh one.
func TestRequestID(t *testing.T) {
	var mu sync.Mutex
	var seen string
	_, base := startServer(t, server.Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Header.Get(server.HeaderRequestID)
		mu.Unlock()
	}))
	cases := []struct {
		name, id string
		kept     bool
	}{
		{"uuid", "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"token", "req:42/a=b+c@edge_1.x", true},
		{"128 bytes", strings.Repeat("a", 128), true},
		{"129 bytes", strings.Repeat("a", 129), false},
		{"space", "a b", false},
		{"quote", `a"b`, false},
		{"none", "", false},
	}
	ids := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", base+"/", nil)
			if c.id != "" {
				req.Header.Set(server.HeaderRequestID, c.id)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := resp.Header.Get(server.HeaderRequestID)
			mu.Lock()
			defer mu.Unlock()
			if got != seen {
				t.Errorf("response id %q, the handler saw %q", got, seen)
			}
			if c.kept != (got == c.id) {
				t.Errorf("id %q for the client's %q (kept: %v)", got, c.id, c.kept)
			}
			if !c.kept && (!saneRequestID(got) || ids[got]) {
				t.Errorf("fresh id %q is not a new sane token", got)
			}
			ids[got] = true
		})
	}
}

// TestGuestErrorCarriesTheRequestID: the id of a guest's 500 is the one on
// the response header and in the access log, and the default headers are
// on the error response too.
func TestGuestErrorCarriesTheRequestID(t *testing.T) {
	h := newTestHandler(t, readFile(t, "host/testdata/faults.wasm"), HandlerConfig{Isolates: 1})
	var logBuf testguest.SyncBuffer
	_, base := startServer(t, server.Config{
		Headers:      http.Header{"X-Edge": {"1"}},
		ServerHeader: server.DefaultServerHeader,
		AccessLog:    slog.New(slog.NewJSONHandler(&logBuf, nil)),
	}, h)
	req, _ := http.NewRequest("GET", base+"/trap", nil)
	req.Header.Set(server.HeaderRequestID, "client-7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(body), "request id client-7") {
		t.Errorf("got %d %q, want 500 naming request id client-7", resp.StatusCode, body)
	}
	if resp.Header.Get(server.HeaderRequestID) != "client-7" || resp.Header.Get("X-Edge") != "1" || resp.Header.Get("Server") != "wasmserve" {
		t.Errorf("headers %v", resp.Header)
	}
	line := accessLines(t, logBuf.String())[0]
	if line["request_id"] != "client-7" || line["status"] != float64(500) || line["isolate"] == "" {
		t.Errorf("access log line %v", line)
	}
}

// accessLines decodes JSON log lines.
func accessLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

// TestAccessLogFields: one JSON line per request with every field typed.
func TestAccessLogFields(t *testing.T) {
	h := newTestHandler(t, readFile(t, "host/testdata/faults.wasm"), HandlerConfig{Isolates: 1})
	var logBuf testguest.SyncBuffer
	_, base := startServer(t, server.Config{AccessLog: slog.New(slog.NewJSONHandler(&logBuf, nil))}, h)
	for _, path := range []string{"/ok/one", "/ok/two?q=1"} {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader("body"))
		req.Header.Set("User-Agent", "access-test/1.0")
		req.Header.Set("Referer", "https://example.com/from")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	lines := accessLines(t, logBuf.String())
	if len(lines) != 2 {
		t.Fatalf("%d access lines, want 2:\n%s", len(lines), logBuf.String())
	}
	l := lines[1]
	want := map[string]any{"msg": "request", "method": "POST", "host": strings.TrimPrefix(base, "http://"),
		"path": "/ok/two", "query": "q=1", "proto": "HTTP/1.1", "status": float64(200), "isolate": "i1",
		"user_agent": "access-test/1.0", "referer": "https://example.com/from"}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("%s = %v (%T), want %v", k, l[k], l[k], v)
		}
	}
	if b, ok := l["bytes"].(float64); !ok || b < 1 {
		t.Errorf("bytes = %v", l["bytes"])
	}
	if d, ok := l["duration"].(float64); !ok || d <= 0 {
		t.Errorf("duration = %v, want nanoseconds", l["duration"])
	}
	if id, _ := l["request_id"].(string); !saneRequestID(id) {
		t.Errorf("request_id = %v", l["request_id"])
	}
	if r, _ := l["remote"].(string); !strings.HasPrefix(r, "127.0.0.1:") {
		t.Errorf("remote = %v", l["remote"])
	}
	if _, ok := l["aborted"]; ok {
		t.Errorf("aborted on a whole response: %v", l)
	}
}

// TestIdleTimeout: a keep-alive connection left idle is closed by the
// server after IdleTimeout.
func TestIdleTimeout(t *testing.T) {
	srv, _ := startServer(t, server.Config{IdleTimeout: 200 * time.Millisecond}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hi")
	}))
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close {
		t.Fatal("the server did not keep the connection alive")
	}
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("read on the idle connection: %v, want EOF", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("closed after %s, before the idle timeout", d)
	}
}

// adminFor starts an admin listener for srv and h.
func adminFor(t *testing.T, srv *server.Server, h *Handler, m *observe.Metrics) string {
	t.Helper()
	a, err := observe.NewAdmin(observe.AdminConfig{Address: "127.0.0.1:0", Server: srv, Handler: h, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	go a.Serve()
	t.Cleanup(func() { a.Close(context.Background()) })
	return a.URL()
}

// scrape parses /metrics with the Prometheus text parser.
func scrape(t *testing.T, admin string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// value is the value of the series of name whose labels include labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no %s in /metrics", name)
	}
	total, found := 0.0, false
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			match := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					match = true
				}
			}
			if !match {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	if !found {
		return 0
	}
	return total
}

// TestMetricsAcrossReload: a known mix of 200, 404, 500, 503 and 504
// answers is counted, and the counts go on across a reload.
func TestMetricsAcrossReload(t *testing.T) {
	faults := readFile(t, "host/testdata/faults.wasm")
	h := newTestHandler(t, faults, HandlerConfig{Isolates: 1, HandlerTimeout: 300 * time.Millisecond,
		QueueTimeout: time.Millisecond})
	m := observe.NewMetrics()
	m.Collect(h)
	mux := http.NewServeMux()
	mux.HandleFunc("/missing", http.NotFound)
	mux.Handle("/", h)
	srv, base := startServer(t, server.Config{Metrics: m}, mux)
	admin := adminFor(t, srv, h, m)

	get := func(path string, want int) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	// One round: 2×200, 404, 500 (trap), 504 (loop), and a 503 from the
	// queue while the loop holds the only isolate.
	round := func() {
		t.Helper()
		get("/ok/a", 200)
		get("/ok/b", 200)
		get("/missing", 404)
		get("/trap", 500)
		waitFull(t, h)
		done := make(chan struct{})
		go func() { defer close(done); get("/loop", 504) }()
		deadline := time.Now().Add(5 * time.Second)
		for h.Pool().Busy() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		get("/ok/queued", 503)
		<-done
		waitFull(t, h)
	}
	round()
	fams := scrape(t, admin)
	check := func(round float64) {
		t.Helper()
		for _, c := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"wasmserve_http_requests_total", []string{"code", "200", "method", "GET", "proto", "HTTP/1.1"}, 2 * round},
			{"wasmserve_http_requests_total", []string{"code", "404"}, round},
			{"wasmserve_http_requests_total", []string{"code", "500"}, round},
			{"wasmserve_http_requests_total", []string{"code", "503"}, round},
			{"wasmserve_http_requests_total", []string{"code", "504"}, round},
			{"wasmserve_http_unavailable_total", nil, round},
			{"wasmserve_http_gateway_timeouts_total", nil, round},
			{"wasmserve_http_request_duration_seconds", nil, 6 * round},
			{"wasmserve_http_request_duration_seconds", []string{"method", "GET", "code", "2xx"}, 2 * round},
			{"wasmserve_http_request_duration_seconds", []string{"method", "GET", "code", "4xx"}, round},
			{"wasmserve_http_request_duration_seconds", []string{"method", "GET", "code", "5xx"}, 3 * round},
			{"wasmserve_guest_call_duration_seconds", nil, 4 * round},
			{"wasmserve_isolates_broken_total", nil, 2 * round},
			{"wasmserve_isolates_configured", nil, 1},
			{"wasmserve_queue_length", nil, 0},
			{"wasmserve_pool_healthy", nil, 1},
			{"wasmserve_module_generation", nil, round},
			{"wasmserve_reloads_total", []string{"result", "success"}, round - 1},
			{"wasmserve_config_last_reload_successful", nil, 1},
		} {
			if got := value(t, fams, c.name, c.labels...); got != c.want {
				t.Errorf("round %v: %s%v = %v, want %v", round, c.name, c.labels, got, c.want)
			}
		}
		if value(t, fams, "wasmserve_http_response_body_bytes_total") <= 0 {
			t.Error("no response bytes counted")
		}
		for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "wasmserve_connections_opened_total"} {
			if value(t, fams, name) <= 0 {
				t.Errorf("%s is missing or 0", name)
			}
		}
	}
	check(1)
	if err := h.Reload(context.Background(), faults); err != nil {
		t.Fatal(err)
	}
	round()
	fams = scrape(t, admin)
	check(2)
	if err := h.Reload(context.Background(), []byte("not wasm")); err == nil {
		t.Fatal("reloading garbage worked")
	}
	fams = scrape(t, admin)
	if value(t, fams, "wasmserve_config_last_reload_successful") != 0 || value(t, fams, "wasmserve_reloads_total", "result", "failure") != 1 {
		t.Error("the failed reload is not counted")
	}
}

// TestAdminEndpoints: health, readiness through a drain, pprof, and the
// connection list with idle and active connections open.
func TestAdminEndpoints(t *testing.T) {
	h := newTestHandler(t, readFile(t, "guest-examples/hello-wat/hello.wasm"), HandlerConfig{Isolates: 1})
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		io.WriteString(w, "released")
	})
	mux.Handle("/", h)
	srv, base := startServer(t, server.Config{}, mux)
	admin := adminFor(t, srv, h, nil)
	status := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(admin + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		path string
		want int
		text string
	}{
		{"/healthz", 200, "ok"},
		{"/readyz", 200, "ready"},
		{"/debug/pprof/", 200, "goroutine"},
		{"/debug/pprof/cmdline", 200, ""},
		{"/metrics", 404, ""}, // no Metrics given
	} {
		if code, body := status(c.path); code != c.want || !strings.Contains(body, c.text) {
			t.Errorf("%s: %d %q, want %d with %q", c.path, code, body, c.want, c.text)
		}
	}

	// Two idle keep-alive connections and one active.
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		idle = append(idle, c)
	}
	activeDone := make(chan error, 1)
	go func() {
		resp, err := http.Get(base + "/block")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		activeDone <- err
	}()
	<-entered
	var got struct {
		server.ConnectionsInfo
		Open []server.ConnInfo `json:"open"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := status("/debug/connections")
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("/debug/connections: %v: %s", err, body)
		}
		if got.Active == 1 && got.Idle == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got.Total != 3 || got.Active != 1 || got.Idle != 2 || got.Closing != 0 || len(got.Open) != 3 {
		t.Fatalf("connections %+v, want 3 total, 1 active, 2 idle", got)
	}
	states := map[string]int{}
	for _, c := range got.Open {
		states[c.State]++
		if !strings.HasPrefix(c.Remote, "127.0.0.1:") || c.Protocol != "http" || c.Age <= 0 || c.AgeText == "" {
			t.Errorf("connection %+v", c)
		}
	}
	if states["active"] != 1 || states["idle"] != 2 {
		t.Errorf("states %v", states)
	}

	// Draining: readiness turns 503 while the active request holds the
	// shutdown; health stays 200.
	shutdownDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdownDone <- srv.Shutdown(ctx)
	}()
	deadline = time.Now().Add(5 * time.Second)
	code, body := 0, ""
	for time.Now().Before(deadline) {
		if code, body = status("/readyz"); code == 503 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if code != 503 || !strings.Contains(body, "draining") {
		t.Errorf("/readyz while draining: %d %q", code, body)
	}
	if code, _ := status("/healthz"); code != 200 {
		t.Errorf("/healthz while draining: %d", code)
	}
	close(release)
	if err := <-activeDone; err != nil {
		t.Errorf("the request in flight failed in the drain: %v", err)
	}
	if err := <-shutdownDone; err != nil {
		t.Error(err)
	}
}

// TestTLSHandshakeMetrics: handshakes are counted by version, and a client
// that fails its handshake as a failure.
func TestTLSHandshakeMetrics(t *testing.T) {
	h := newTestHandler(t, readFile(t, "guest-examples/hello-wat/hello.wasm"), HandlerConfig{Isolates: 1})
	m := observe.NewMetrics()
	srv, _ := startServer(t, server.Config{Metrics: m, TLS: committedTLS()}, h)
	url := "https://" + srv.Addr().String()
	client := httpsClient(t, &tls.Config{}, true)
	admin := adminFor(t, srv, h, m)
	resp, err := client.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A plain-HTTP client on the TLS port fails the handshake.
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	io.Copy(io.Discard, c)
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		fams := scrape(t, admin)
		ok := value(t, fams, "wasmserve_tls_handshakes_total", "version", "TLS 1.3") == 1
		failed := value(t, fams, "wasmserve_tls_handshake_failures_total") == 1
		if ok && failed {
			return
		}
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			expfmt.MetricFamilyToText(&buf, fams["wasmserve_tls_handshakes_total"])
			t.Fatalf("handshakes counted %v, failure counted %v:\n%s", ok, failed, buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
