package host

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// upstreamOrigin is an upstream server on 127.0.0.1 for the outbound tests.
type upstreamOrigin struct {
	*httptest.Server
	hits atomic.Int64
	port string
}

// newOrigin serves:
//
//	/echo      the request body back, with X-Method, X-Proto,
//	           X-Length (the Content-Length it got, -1 if none) and
//	           X-Saw-<name> for every X- header of the request
//	/sleep?d=  waits d, then answers "slept"
//	/big?n=&chunked=1  n bytes, with or without a Content-Length
//	/redirect?to=  302 to the URL to
func newOrigin(t *testing.T, tls bool) *upstreamOrigin {
	t.Helper()
	o := &upstreamOrigin{}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range r.Header {
			if strings.HasPrefix(k, "X-") {
				w.Header()["X-Saw-"+k[2:]] = vs
			}
		}
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Proto", r.Proto)
		w.Header().Set("X-Length", strconv.FormatInt(r.ContentLength, 10))
		w.Header().Add("X-Multi", "one")
		w.Header().Add("X-Multi", "two")
		// Read it all first: an HTTP/1.1 server may stop reading a
		// body once the response is under way.
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
		io.WriteString(w, "slept")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		w.Write(bytes.Repeat([]byte("b"), n))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		mux.ServeHTTP(w, r)
	})
	if tls {
		o.Server = httptest.NewUnstartedServer(counted)
		o.EnableHTTP2 = true
		o.StartTLS()
	} else {
		o.Server = httptest.NewServer(counted)
	}
	t.Cleanup(o.Close)
	_, o.port, _ = net.SplitHostPort(o.Listener.Addr().String())
	return o
}

// pattern is the allow pattern of exactly this origin.
func (o *upstreamOrigin) pattern() string { return o.URL }

// resolver maps test host names to addresses.
func resolver(names map[string]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		a, ok := names[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
}

// outGuest serves the outguest test guest with cfg and the outbound
// extension of oc, and returns its URL and the extension.
func outGuest(t *testing.T, cfg HandlerConfig, oc outbound.Config) (string, *outbound.Extension) {
	t.Helper()
	wasm := testguest.Read(t, "../host/testdata/outguest")
	cfg, ob := withOutbound(t, cfg, oc)
	h := newTestHandler(t, wasm, cfg)
	return startPlain(t, h), ob
}

// callOut asks the guest at base to call target, and returns the status
// and body it answered.
func callOut(t *testing.T, base, path, target string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(base + path + "?url=" + url.QueryEscape(target))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestOutboundRoundTrip(t *testing.T) {
	o := newOrigin(t, false)
	base, _ := outGuest(t, HandlerConfig{Isolates: 1}, outbound.Config{Allow: []string{o.pattern()}})
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	cases := []struct {
		name, method string
		body         []byte
		chunked      bool
	}{
		{"GET", "GET", nil, false},
		{"POST 1 MiB", "POST", big, false},
		{"POST 1 MiB chunked", "POST", big, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(c.body)
			if c.chunked {
				body = io.MultiReader(body)
			}
			req, _ := http.NewRequest("POST", base+"/fetch?method="+c.method+"&url="+url.QueryEscape(o.URL+"/echo"), body)
			req.Header.Set("X-Trace", "abc")
			req.Header.Add("X-Two", "1")
			req.Header.Add("X-Two", "2")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			if !bytes.Equal(got, c.body) {
				t.Errorf("body: got %d bytes, want %d", len(got), len(c.body))
			}
			h := resp.Header
			if h.Get("X-Method") != c.method || h.Get("X-Saw-Trace") != "abc" || strings.Join(h["X-Saw-Two"], ",") != "1,2" {
				t.Errorf("request headers did not reach the origin: %v", h)
			}
			if strings.Join(h["X-Multi"], ",") != "one,two" {
				t.Errorf("response header X-Multi = %q, want one,two", h["X-Multi"])
			}
			wantLen := strconv.Itoa(len(c.body))
			if c.chunked {
				wantLen = "-1"
			}
			if h.Get("X-Length") != wantLen {
				t.Errorf("origin saw Content-Length %s, want %s", h.Get("X-Length"), wantLen)
			}
		})
	}
}

func TestOutboundHTTP2ToHTTPS(t *testing.T) {
	o := newOrigin(t, true)
	pool := x509.NewCertPool()
	pool.AddCert(o.Certificate())
	base, _ := outGuest(t, HandlerConfig{Isolates: 1}, outbound.Config{Allow: []string{o.pattern()}, RootCAs: pool})
	code, h, body := callOut(t, base, "/fetch", o.URL+"/echo")
	if code != 200 || h.Get("X-Proto") != "HTTP/2.0" {
		t.Errorf("got %d, proto %q: %s; want 200 over HTTP/2.0", code, h.Get("X-Proto"), body)
	}

	// Without the origin's CA the call fails on its certificate.
	base, _ = outGuest(t, HandlerConfig{Isolates: 1}, outbound.Config{Allow: []string{o.pattern()}})
	if code, _, body := callOut(t, base, "/fetch", o.URL+"/echo"); code != 502 || !strings.Contains(body, "certificate") {
		t.Errorf("untrusted origin: got %d %q, want 502 naming the certificate", code, body)
	}
}

func TestOutboundPolicy(t *testing.T) {
	o := newOrigin(t, false)
	p := o.port
	names := map[string]string{
		"api.example.test":    "127.0.0.1",
		"deep.a.example.test": "127.0.0.1",
		"internal.test":       "127.0.0.1",
		"metadata.test":       "169.254.169.254",
		"other.test":          "127.0.0.1",
	}
	cases := []struct {
		name   string
		allow  []string
		target string
		want   string // "" = the call succeeds; else in the 502 body
		rule   string // in the log line of a refusal
	}{
		{"nothing allowed", nil, o.URL + "/echo", "refused", "no outbound calls are allowed"},
		{"exact origin", []string{o.pattern()}, o.URL + "/echo", "", ""},
		{"other port", []string{"http://127.0.0.1:1"}, o.URL + "/echo", "refused", "matches no allow pattern"},
		{"other scheme", []string{"https://127.0.0.1:" + p}, o.URL + "/echo", "refused", "matches no allow pattern"},
		{"wildcard subdomain", []string{"http://*.example.test:" + p, "http://127.0.0.1:" + p},
			"http://api.example.test:" + p + "/echo", "", ""},
		{"wildcard deeper subdomain", []string{"http://*.example.test:*", "http://127.0.0.1:*"},
			"http://deep.a.example.test:" + p + "/echo", "", ""},
		{"wildcard does not match another domain", []string{"http://*.example.test:" + p, "http://127.0.0.1:" + p},
			"http://other.test:" + p + "/echo", "refused", "matches no allow pattern"},
		{"name resolving to loopback", []string{"http://internal.test:" + p},
			"http://internal.test:" + p + "/echo", "refused", "internal.test resolves to 127.0.0.1, in blocked network 127.0.0.0/8, and no allow pattern names that address (allow http://127.0.0.1:" + p + " to reach it)"},
		{"name resolving to the metadata address", []string{"http://metadata.test:" + p},
			"http://metadata.test:" + p + "/", "refused", "169.254.169.254, in blocked network 169.254.0.0/16"},
		{"star still blocks private addresses", []string{"*"}, o.URL + "/echo", "refused", "address 127.0.0.1 is in blocked network"},
		{"redirect to a disallowed host", []string{o.pattern()},
			o.URL + "/redirect?to=" + url.QueryEscape("http://other.test:"+p+"/echo"), "refused", "http://other.test:" + p + " matches no allow pattern"},
		{"redirect to an allowed host", []string{o.pattern()},
			o.URL + "/redirect?to=" + url.QueryEscape(o.URL+"/echo"), "", ""},
		{"unknown name", []string{"http://nowhere.test:" + p}, "http://nowhere.test:" + p + "/", "network", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs testguest.SyncBuffer
			base, ob := outGuest(t, HandlerConfig{Isolates: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))},
				outbound.Config{Allow: c.allow, LookupIP: resolver(names)})
			hits := o.hits.Load()
			code, _, body := callOut(t, base, "/fetch", c.target)
			if c.want == "" {
				if code != 200 {
					t.Fatalf("got %d %q, want 200", code, body)
				}
				return
			}
			if code != 502 || !strings.Contains(body, c.want) {
				t.Fatalf("got %d %q, want 502 with %q", code, body, c.want)
			}
			if c.want != "refused" {
				return
			}
			if n := o.hits.Load() - hits; n > 0 && !strings.HasPrefix(c.name, "redirect") {
				t.Errorf("a refused call reached the origin (%d hits)", n)
			}
			if !strings.Contains(logs.String(), "outbound call refused") || !strings.Contains(logs.String(), c.rule) {
				t.Errorf("log does not name the refusal and its rule %q:\n%s", c.rule, logs.String())
			}
			if ob.Stats().Refused != 1 {
				t.Errorf("stats count %d refused calls, want 1", ob.Stats().Refused)
			}
		})
	}
}

func TestOutboundLimits(t *testing.T) {
	o := newOrigin(t, false)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := closed.Addr().String()
	closed.Close()
	cases := []struct {
		name   string
		cfg    outbound.Config
		path   string
		target string
		code   int
		want   string
	}{
		{"outbound timeout", outbound.Config{Timeout: 100 * time.Millisecond}, "/fetch", o.URL + "/sleep?d=5s", 502, "timeout"},
		{"declared body over the cap", outbound.Config{MaxResponseBody: 1000}, "/fetch", o.URL + "/big?n=5000", 502, "too big"},
		{"streamed body over the cap", outbound.Config{MaxResponseBody: 1000}, "/fetch", o.URL + "/big?n=50000&chunked=1", 200, "body error: wasmserve_http: too big"},
		{"body at the cap", outbound.Config{MaxResponseBody: 5000}, "/fetch", o.URL + "/big?n=5000", 200, strings.Repeat("b", 5000)},
		{"calls under the cap", outbound.Config{MaxCallsPerRequest: 3}, "/many", o.URL + "/echo", 200, "3 calls ok"},
		{"one call over the cap", outbound.Config{MaxCallsPerRequest: 3}, "/many", o.URL + "/echo", 502, "call 4: Get \"" + o.URL + "/echo\": wasmserve_http: limit"},
		{"default cap of 32", outbound.Config{}, "/many", o.URL + "/echo", 502, "call 33:"},
		{"unreachable origin", outbound.Config{Allow: []string{"http://" + deadAddr}}, "/fetch", "http://" + deadAddr + "/", 502, "connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.cfg.Allow == nil {
				c.cfg.Allow = []string{o.pattern()}
			}
			base, ob := outGuest(t, HandlerConfig{Isolates: 1}, c.cfg)
			path := c.path
			switch {
			case strings.HasSuffix(c.name, "under the cap"):
				path += "?n=3&"
			case strings.HasSuffix(c.name, "over the cap") && c.path == "/many":
				path += "?n=4&"
			case strings.HasPrefix(c.name, "default cap"):
				path += "?n=40&"
			default:
				path += "?"
			}
			for round := range 2 { // the cap is per request
				resp, err := http.Get(base + path + "url=" + url.QueryEscape(c.target))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.code || !strings.Contains(string(b), c.want) {
					t.Fatalf("round %d: got %d %q, want %d with %q", round, resp.StatusCode, b, c.code, c.want)
				}
			}
			testguest.WaitFor(t, "no call in flight", func() bool { return ob.Stats().InFlight == 0 })
		})
	}
}

// TestOutboundHandlerTimeout: a call waiting on the network ends with the
// handler timeout, not with the origin.
func TestOutboundHandlerTimeout(t *testing.T) {
	o := newOrigin(t, false)
	base, _ := outGuest(t, HandlerConfig{Isolates: 1, HandlerTimeout: 300 * time.Millisecond},
		outbound.Config{Allow: []string{o.pattern()}})
	start := time.Now()
	code, _, body := callOut(t, base, "/fetch", o.URL+"/sleep?d=10s")
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("the request took %s with a 300ms handler timeout", el)
	}
	if code != 502 || !strings.Contains(body, "timeout") {
		t.Errorf("got %d %q, want the guest's 502 naming the timeout: the call ends before the handler timeout, leaving the guest time to answer", code, body)
	}
}

// TestOutboundLeftOpen: a call the guest leaves open is closed when its
// request ends.
func TestOutboundLeftOpen(t *testing.T) {
	o := newOrigin(t, false)
	base, ob := outGuest(t, HandlerConfig{Isolates: 1}, outbound.Config{Allow: []string{o.pattern()}, MaxInFlight: 1})
	for i := range 3 { // with one slot, a leaked call would block the second
		if code, _, body := callOut(t, base, "/leak", o.URL+"/big?n=100000"); code != 200 {
			t.Fatalf("request %d: got %d %q", i, code, body)
		}
	}
	testguest.WaitFor(t, "the left-open calls closed", func() bool { return ob.Stats().InFlight == 0 })
	st := ob.Stats()
	if n := st.Calls[outbound.Key{Origin: o.Listener.Addr().String(), Outcome: "ok"}]; n != 3 {
		t.Errorf("stats: %d ok calls to the origin, want 3 (%v)", n, st.Calls)
	}
	if last := st.DurationCounts[len(st.DurationCounts)-1]; last != 3 {
		t.Errorf("duration histogram counts %d calls, want 3", last)
	}
}

// TestOutboundBadPointer: a guest passing a pointer outside its memory traps
// in that call: 500, and the isolate is replaced.
func TestOutboundBadPointer(t *testing.T) {
	o := newOrigin(t, false)
	cfg, _ := withOutbound(t, withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{GuestConfig: []byte(o.URL + "/echo")}),
		outbound.Config{Allow: []string{o.pattern()}})
	h := newTestHandler(t, readFile(t, "host/testdata/outcall.wasm"), cfg)
	base := startPlain(t, h)
	resp, err := http.Get(base + "/bad")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("bad pointer: status %d, want 500", resp.StatusCode)
	}
	testguest.WaitFor(t, "the isolate replaced", func() bool { return h.Pool().Replaced() == 1 && h.Pool().Idle() == 1 })
	if code, _, body := callOut(t, base, "/ok", ""); code != 200 {
		t.Errorf("after the trap: got %d %q, want 200", code, body)
	}
}

// TestOutboundConcurrent: 32 guests each waiting 200 ms on an origin wait
// side by side, not one after another (6.4 s).
func TestOutboundConcurrent(t *testing.T) {
	o := newOrigin(t, false)
	const n = 32
	cfg, _ := withOutbound(t, withHTTPWasm(HandlerConfig{Isolates: n, HandlerTimeout: 10 * time.Second},
		httpwasm.Config{GuestConfig: []byte(o.URL + "/sleep?d=200ms")}), outbound.Config{Allow: []string{o.pattern()}})
	h := newTestHandler(t, readFile(t, "host/testdata/outcall.wasm"), cfg)
	base := startPlain(t, h)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}, Timeout: 20 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(base + "/")
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != "slept" {
				errs <- fmt.Errorf("got %d %q", resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d concurrent calls of 200 ms took %s", n, el)
	if el > 2*time.Second {
		t.Errorf("%d concurrent calls of 200 ms took %s, want about 200 ms (serially: %s)", n, el, n*200*time.Millisecond)
	}
}

// TestOutboundNotImported: a guest that does not import the module gets no
// outbound state, and check lists the module for one that does.
func TestOutboundInspect(t *testing.T) {
	cfg, _ := withOutbound(t, HandlerConfig{}, outbound.Config{})
	rep, err := Inspect(context.Background(), readFile(t, "host/testdata/outcall.wasm"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("problems: %v", rep.Problems)
	}
	if !strings.Contains(strings.Join(rep.OtherImports, " "), "wasmserve_http.request") {
		t.Errorf("other imports %v do not list wasmserve_http.request", rep.OtherImports)
	}
	cfg, _ = withOutbound(t, HandlerConfig{Isolates: 1}, outbound.Config{})
	h := newTestHandler(t, testguest.Read(t, "hello"), cfg)
	iso, err := h.Pool().Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Pool().Release(iso)
	if len(iso.Value.exts) != 0 {
		t.Error("a guest that does not import wasmserve_http got outbound state")
	}
}

// TestFetchJSONExample: guest-examples/fetch-json fetches a local upstream
// with http.Get and reshapes it.
func TestFetchJSONExample(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `[
			{"id": 1, "name": "Zoe", "email": "z@example.test", "address": {"city": "Paris"}, "company": {"name": "Zed"}},
			{"id": 2, "name": "Ann", "email": "a@example.test", "address": {"city": "Oslo"}, "company": {"name": "Acme"}},
			{"id": 3, "name": "Bob", "email": "b@example.test", "address": {"city": "Paris"}, "company": {"name": "Bee"}}]`)
	}))
	defer up.Close()
	cfg, _ := withOutbound(t, withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{GuestConfig: []byte(up.URL + "/users")}),
		outbound.Config{Allow: []string{up.URL}})
	h := newTestHandler(t, testguest.Read(t, "fetch-json"), cfg)
	base := startPlain(t, h)
	cases := []struct{ name, query, want string }{
		{"all, sorted", "", `"count": 3,
  "people": [
    {
      "name": "Ann",
      "city": "Oslo",
      "company": "Acme"
    },
    {
      "name": "Bob",`},
		{"by city", "?city=paris", `"count": 2`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := getBody(t, http.DefaultClient, base+"/"+c.query, nil)
			code := resp.StatusCode
			if code != 200 || !strings.Contains(body, c.want) || !strings.Contains(body, `"source": "`+up.URL+`/users"`) {
				t.Errorf("got %d:\n%s\nwant it to hold:\n%s", code, body, c.want)
			}
		})
	}
	// Refused without an allow pattern: 502 with the reason.
	cfg, _ = withOutbound(t, withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{GuestConfig: []byte(up.URL + "/users")}), outbound.Config{})
	h2 := newTestHandler(t, testguest.Read(t, "fetch-json"), cfg)
	if resp, body := getBody(t, http.DefaultClient, startPlain(t, h2)+"/", nil); resp.StatusCode != 502 || !strings.Contains(body, "wasmserve_http: refused") {
		t.Errorf("not allowed: got %d %q", resp.StatusCode, body)
	}
}

// TestOutboundBadImports: a module whose wasmserve_http imports do not fit
// is refused before it runs, and check names each import.
func TestOutboundBadImports(t *testing.T) {
	wasm := readFile(t, "host/testdata/outbad.wasm")
	cfg, _ := withOutbound(t, HandlerConfig{Isolates: 1}, outbound.Config{})
	_, err := NewHandler(context.Background(), wasm, cfg)
	if err == nil || !strings.Contains(err.Error(), "wasmserve_http.") {
		t.Errorf("NewHandler: %v, want an error naming the wasmserve_http import", err)
	}
	cfg, _ = withOutbound(t, HandlerConfig{}, outbound.Config{})
	cfg.CacheDir = testguest.CacheDir(t)
	rep, err := Inspect(context.Background(), wasm, cfg)
	if err != nil {
		t.Fatal(err)
	}
	probs := strings.Join(rep.Problems, "\n")
	for _, want := range []string{"imports wasmserve_http.teleport: wasmserve_http does not define teleport",
		"imports wasmserve_http.request: wrong signature: want (i32, i32, i32, i32, i32) -> i32"} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems lack %q:\n%s", want, probs)
		}
	}
}

// TestOutboundStartAndReset: a start function cannot call out (code -8),
// and since nothing of a request's calls survives it, the module's
// isolates are renewed by a reset, not a new instance.
func TestOutboundStartAndReset(t *testing.T) {
	o := newOrigin(t, false)
	cfg, _ := withOutbound(t, withHTTPWasm(HandlerConfig{Isolates: 1, MaxRequestsPerIsolate: 1},
		httpwasm.Config{GuestConfig: []byte(o.URL + "/echo")}), outbound.Config{Allow: []string{o.pattern()}})
	h := newTestHandler(t, readFile(t, "host/testdata/outcall.wasm"), cfg)
	base := startPlain(t, h)
	if code, _, body := callOut(t, base, "/start", ""); code != 502 || body != "8" {
		t.Errorf("request in _initialize: got %d %q, want 502 and code 8 (no request)", code, body)
	}
	if b := h.Pool().Stats().ResetBlocker; b != "" {
		t.Errorf("isolates are not reset: %s", b)
	}
	for i := range 3 {
		if code, _, body := callOut(t, base, "/", ""); code != 200 {
			t.Errorf("request %d after resets: got %d %q", i, code, body)
		}
	}
}

// TestOutboundMetrics: /metrics on the admin listener counts outbound calls
// by origin and outcome, refusals, and their durations.
func TestOutboundMetrics(t *testing.T) {
	o := newOrigin(t, false)
	cfg, ob := withOutbound(t, withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{GuestConfig: []byte(o.URL + "/echo")}),
		outbound.Config{Allow: []string{o.pattern()}})
	h := newTestHandler(t, readFile(t, "host/testdata/outcall.wasm"), cfg)
	cfg, refusingOb := withOutbound(t, withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{GuestConfig: []byte("http://refused.test/")}),
		outbound.Config{})
	refusing := newTestHandler(t, readFile(t, "host/testdata/outcall.wasm"), cfg)
	m := observe.NewMetrics()
	m.Collect(h)
	m.Registry().MustRegister(ob.Collector())
	srv, base := startServer(t, server.Config{Metrics: m}, h)
	admin := adminFor(t, srv, h, m)
	for range 3 {
		if code, _, body := callOut(t, base, "/", ""); code != 200 {
			t.Fatalf("got %d %q", code, body)
		}
	}
	fams := scrape(t, admin)
	origin := o.Listener.Addr().String()
	if v := value(t, fams, "wasmserve_outbound_calls_total", "origin", origin, "outcome", "ok"); v != 3 {
		t.Errorf("wasmserve_outbound_calls_total{origin=%q,outcome=ok} = %v, want 3", origin, v)
	}
	if v := value(t, fams, "wasmserve_outbound_duration_seconds"); v != 3 {
		t.Errorf("wasmserve_outbound_duration_seconds counts %v calls, want 3", v)
	}
	if v := value(t, fams, "wasmserve_outbound_in_flight"); v != 0 {
		t.Errorf("wasmserve_outbound_in_flight = %v, want 0", v)
	}

	// A refused call, on a handler of its own.
	m2 := observe.NewMetrics()
	m2.Collect(refusing)
	m2.Registry().MustRegister(refusingOb.Collector())
	srv2, base2 := startServer(t, server.Config{Metrics: m2}, refusing)
	if code, _, body := callOut(t, base2, "/", ""); code != 502 || body != "1" {
		t.Fatalf("refused call: got %d %q, want 502 and code 1", code, body)
	}
	if v := value(t, scrape(t, adminFor(t, srv2, refusing, m2)), "wasmserve_outbound_refused_total"); v != 1 {
		t.Errorf("wasmserve_outbound_refused_total = %v, want 1", v)
	}
}

// TestOutboundCGI: a CGI program (a WASI command) gets the same module
// and the same policy.
func TestOutboundCGI(t *testing.T) {
	o := newOrigin(t, false)
	wasm, err := os.ReadFile(testguest.BuildCommand(t, "host/testdata/cgiout"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := withOutbound(t, HandlerConfig{Isolates: 1}, outbound.Config{Allow: []string{o.pattern()}})
	h := newTestHandler(t, wasm, cfg)
	if name, _, _ := h.ABI(); name != "cgi" {
		t.Fatalf("served as %s, want cgi", name)
	}
	base := startPlain(t, h)
	if code, _, body := callOut(t, base, "/", o.URL+"/sleep?d=1ms"); code != 200 || body != "slept" {
		t.Errorf("allowed call: got %d %q, want 200 slept", code, body)
	}
	if code, _, body := callOut(t, base, "/", "http://refused.test/"); code != 502 || !strings.Contains(body, "wasmserve_http: refused") {
		t.Errorf("refused call: got %d %q, want 502 naming the refusal", code, body)
	}
	cfg, _ = withOutbound(t, HandlerConfig{}, outbound.Config{})
	cfg.CacheDir = testguest.CacheDir(t)
	rep, err := Inspect(context.Background(), wasm, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("check finds problems in a CGI program that calls out: %v", rep.Problems)
	}
}
