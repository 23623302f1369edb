package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// start serves wasm on 127.0.0.1 at an ephemeral port and returns the base
// URL. Everything is closed when the test ends.
func start(t *testing.T, wasm []byte, isolates int) (string, *Handler) {
	t.Helper()
	h := newTestHandler(t, wasm, HandlerConfig{Isolates: isolates})
	return startPlain(t, h), h
}

func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(testguest.Path(rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// echoed is what guest-examples/echo answers.
type echoed struct {
	Method     string              `json:"method"`
	URI        string              `json:"uri"`
	Proto      string              `json:"proto"`
	RemoteAddr string              `json:"remote_addr"`
	Host       string              `json:"host"`
	Headers    map[string][]string `json:"headers"`
	Body       string              `json:"body"`
}

func decodeEcho(t *testing.T, resp *http.Response) echoed {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var e echoed
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("echo answered %q: %v", b, err)
	}
	return e
}

func TestHelloGoGuest(t *testing.T) {
	base, _ := start(t, testguest.Read(t, "hello"), 1)
	resp, err := http.Get(base + "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "Hello from wasmserve: /x\n" {
		t.Errorf("got %d %q", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("content-type %q", ct)
	}
}

func TestHelloWATGuest(t *testing.T) {
	base, _ := start(t, readFile(t, "guest-examples/hello-wat/hello.wasm"), 1)
	resp, err := http.Get(base + "/wat?q=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "Hello from wasmserve: /wat?q=1\n" {
		t.Errorf("got %d %q", resp.StatusCode, b)
	}
}

func TestEchoRoundTrip(t *testing.T) {
	base, _ := start(t, testguest.Read(t, "echo"), 2)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	cases := []struct {
		name, method, path string
		body               []byte
		header             http.Header
	}{
		{"GET with query and headers", "GET", "/a/b%20c?x=1&y=two", nil,
			http.Header{"X-One": {"1"}, "X-Multi": {"a", "b"}}},
		{"POST 1 MiB", "POST", "/upload", big, http.Header{"Content-Type": {"application/octet-stream"}}},
		{"PUT empty body", "PUT", "/", []byte{}, nil},
		{"POST chunked", "POST", "/chunked", []byte("streamed without a length"), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(c.body)
			if c.name == "POST chunked" {
				body = io.MultiReader(body) // unknown length: sent chunked
			}
			req, _ := http.NewRequest(c.method, base+c.path, body)
			for k, vs := range c.header {
				req.Header[k] = vs
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			e := decodeEcho(t, resp)
			if e.Method != c.method || e.URI != c.path || e.Proto != "HTTP/1.1" {
				t.Errorf("echo saw %s %s %s", e.Method, e.URI, e.Proto)
			}
			if !strings.HasPrefix(e.RemoteAddr, "127.0.0.1:") {
				t.Errorf("remote addr %q", e.RemoteAddr)
			}
			if e.Host != strings.TrimPrefix(base, "http://") {
				t.Errorf("host %q", e.Host)
			}
			for k, vs := range c.header {
				got := e.Headers[k]
				if got == nil {
					got = e.Headers[strings.ToLower(k)]
				}
				if strings.Join(got, ",") != strings.Join(vs, ",") {
					t.Errorf("header %s = %q, want %q (all: %v)", k, got, vs, e.Headers)
				}
			}
			if sha256.Sum256([]byte(e.Body)) != sha256.Sum256(c.body) {
				t.Errorf("body: got %d bytes, want %d", len(e.Body), len(c.body))
			}
		})
	}
}

// TestConcurrentRequestsDoNotCross sends many concurrent requests, each with
// its own path and body, over a few isolates, and checks that every answer
// is its own.
func TestConcurrentRequestsDoNotCross(t *testing.T) {
	const isolates, workers, perWorker = 4, 16, 20
	base, h := start(t, testguest.Read(t, "echo"), isolates)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				id := fmt.Sprintf("w%d-r%d", w, i)
				body := strings.Repeat(id, 100+w*i)
				resp, err := client.Post(base+"/"+id, "text/plain", strings.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				var e echoed
				err = json.NewDecoder(resp.Body).Decode(&e)
				resp.Body.Close()
				if err != nil {
					errs <- fmt.Errorf("%s: %v", id, err)
					continue
				}
				if e.URI != "/"+id || e.Body != body {
					errs <- fmt.Errorf("%s: got the answer for %s (%d body bytes)", id, e.URI, len(e.Body))
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if h.Pool().Idle() != isolates {
		t.Errorf("idle isolates after the load = %d, want %d", h.Pool().Idle(), isolates)
	}
}

// TestIsolatesHaveSeparateMemory stores a secret in one isolate's memory and
// shows that another isolate neither answers it nor holds it.
func TestIsolatesHaveSeparateMemory(t *testing.T) {
	wasm := readFile(t, "host/testdata/stash.wasm")

	// Over HTTP with one isolate the stash works: a later request sees
	// what an earlier one stored. This is what must not cross isolates.
	base, _ := start(t, wasm, 1)
	resp, err := http.Post(base+"/", "text/plain", strings.NewReader("kept"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "kept" {
		t.Fatalf("one isolate: GET after POST answered %q, want the stored value", b)
	}

	// Two isolates, held at once so that each request goes where we say.
	h, err := NewHandler(context.Background(), wasm, HandlerConfig{Isolates: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	ctx := context.Background()
	a, err := h.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bIso, err := h.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	serveOn := func(g *httpwasm.Guest, method, body string) string {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(method, "/", strings.NewReader(body))
		if err := g.Handle(ctx, w, r); err != nil {
			t.Fatal(err)
		}
		return w.Body.String()
	}
	ga, gb := a.Value.guest.(*httpwasm.Instance).Guest(), bIso.Value.guest.(*httpwasm.Instance).Guest()
	const secret = "secret-7f3a9c"
	serveOn(ga, "POST", secret)
	if got := serveOn(gb, "GET", ""); got != "" {
		t.Errorf("isolate %s answered %q, stored in isolate %s", bIso.ID, got, a.ID)
	}
	if got := serveOn(ga, "GET", ""); got != secret {
		t.Errorf("isolate %s lost its own value: %q", a.ID, got)
	}
	memA, _ := ga.Memory().Read(0, ga.Memory().Size())
	memB, _ := gb.Memory().Read(0, gb.Memory().Size())
	if !bytes.Contains(memA, []byte(secret)) || bytes.Contains(memB, []byte(secret)) {
		t.Errorf("secret in A's memory: %v, in B's: %v", bytes.Contains(memA, []byte(secret)), bytes.Contains(memB, []byte(secret)))
	}
	h.Pool().Release(a)
	h.Pool().Release(bIso)
}

func TestNextAnswers404(t *testing.T) {
	// probe-like guest that returns next=1: built inline from WAT text is
	// not possible without wabt, so use the committed fixture.
	base, _ := start(t, readFile(t, "host/testdata/next.wasm"), 1)
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("next without an upstream answered %d, want 404", resp.StatusCode)
	}
}

func TestGuestTrapAnswersGeneric500(t *testing.T) {
	base, h := start(t, readFile(t, "host/testdata/trap.wasm"), 2)
	for i := 0; i < 3; i++ {
		resp, err := http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("X-Request-Id")
		if resp.StatusCode != 500 || id == "" || string(b) != "500 handler error (request id "+id+")\n" {
			t.Errorf("got %d %q id %q", resp.StatusCode, b, id)
		}
		if resp.Header.Get("X-Guest") != "" {
			t.Error("headers the guest set before trapping leaked into the error response")
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.Pool().Idle() != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if h.Pool().Idle() != 2 || h.Pool().Replaced() != 3 {
		t.Errorf("pool idle %d replaced %d, want 2 and 3", h.Pool().Idle(), h.Pool().Replaced())
	}
}

func TestPortFileAndURLs(t *testing.T) {
	h, err := NewHandler(context.Background(), readFile(t, "guest-examples/hello-wat/hello.wasm"), HandlerConfig{Isolates: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	pf := filepath.Join(t.TempDir(), "port")
	srv := server.NewServer(server.Config{Address: "loopback", Port: 0, PortFile: pf}, h)
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b, err := os.ReadFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || port == 0 || port != srv.Port() {
		t.Fatalf("port file %q, server port %d", b, srv.Port())
	}
	if got := srv.URLs(); len(got) != 1 || got[0] != "http://127.0.0.1:"+strconv.Itoa(port)+"/" {
		t.Errorf("urls %q", got)
	}
	go srv.Serve()
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("nothing listens on the port in the port file: %v", err)
	}
	conn.Close()
}

// TestGoGuestReuseLeaksNothing: the Go SDK reuses its request, header map
// and ResponseWriter between requests of an isolate; on one isolate, a
// request after one with a header, a body and a trailer sees none of them,
// and a GET after a POST has no body.
func TestGoGuestReuseLeaksNothing(t *testing.T) {
	base, _ := start(t, testguest.Read(t, "echo"), 1)
	req, _ := http.NewRequest("POST", base+"/first?q=1", strings.NewReader("first body"))
	req.Header.Set("X-First", "secret")
	req.Host = "first.example"
	first := decodeEcho(t, mustDo(t, req))
	if first.Headers["X-First"] == nil || first.Body != "first body" {
		t.Fatalf("first request not echoed: %+v", first)
	}
	second := decodeEcho(t, mustDo(t, mustNew(t, "GET", base+"/second")))
	if second.Headers["X-First"] != nil || second.Body != "" || second.URI != "/second" ||
		second.Method != "GET" || second.Host == "first.example" {
		t.Errorf("the second request saw the first's state: %+v", second)
	}
}

func mustNew(t *testing.T, method, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustDo(t *testing.T, r *http.Request) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
