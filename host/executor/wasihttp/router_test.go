package wasihttp

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// routerServer serves the JS router on a real listener, a fresh instance
// per request.
func routerServer(t *testing.T, maxBody int64, results chan<- served) (*env, *httptest.Server) {
	t.Helper()
	e := routerEnv(t)
	srv := httptest.NewServer(serveHandler(e.c, e.handle, maxBody, results))
	t.Cleanup(srv.Close)
	return e, srv
}

func get(t *testing.T, u string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", u, err)
	}
	return resp, string(b)
}

func TestRouterGet(t *testing.T) {
	_, srv := routerServer(t, 0, nil)
	tests := []struct {
		name   string
		path   string
		status int
		body   string
	}{
		{"root", "/", 200, "path: /\nquery: \n"},
		{"path and query", "/a/b%20c?x=1&y=two", 200, "path: /a/b%20c\nquery: ?x=1&y=two\n"},
		{"teapot", "/teapot", 418, "short and stout\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, srv.URL+tt.path, nil)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("content-type %q", ct)
			}
		})
	}
}

func TestRouterHeaders(t *testing.T) {
	_, srv := routerServer(t, 0, nil)
	resp, body := get(t, srv.URL+"/headers", http.Header{"X-Test": {"abc"}, "X-Two": {"2"}, "Other": {"no"}})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for _, want := range []string{"x-test: abc\n", "x-two: 2\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("body %q lacks %q", body, want)
		}
	}
	if strings.Contains(body, "other") {
		t.Errorf("body %q has a header not asked for", body)
	}
	// Two values, as two fields or folded into one (RFC 9110 §5.3).
	if got := strings.Join(resp.Header.Values("X-Multi"), ", "); got != "one, two" {
		t.Errorf("x-multi = %q, want one and two", got)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Errorf("set-cookie = %q, want two values", got)
	}
}

func TestRouterEcho(t *testing.T) {
	_, srv := routerServer(t, 0, nil)
	big := make([]byte, 400<<10)
	rand.Read(big)
	tests := []struct {
		name string
		body []byte
		// chunked sends the body without a content-length.
		chunked bool
	}{
		{"small", []byte("hello, echo"), false},
		{"empty", nil, false},
		{"400 kB", big, false},
		{"400 kB chunked", big, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/echo", body)
			req.Header.Set("Content-Type", "application/x-test")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || !bytes.Equal(got, tt.body) {
				t.Errorf("POST /echo of %d bytes = %d with %d bytes back", len(tt.body), resp.StatusCode, len(got))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-test" {
				t.Errorf("content-type %q", ct)
			}
		})
	}
}

func TestRouterBig(t *testing.T) {
	results := make(chan served, 1)
	_, srv := routerServer(t, 0, results)
	resp, body := get(t, srv.URL+"/big", nil)
	if resp.StatusCode != 200 || len(body) != 1<<20 {
		t.Fatalf("GET /big = %d with %d bytes", resp.StatusCode, len(body))
	}
	for i := 0; i < len(body); i += 4099 {
		if want := byte('a' + i%(64<<10)%26); body[i] != want {
			t.Fatalf("byte %d = %q, want %q", i, body[i], want)
		}
	}
	if res := <-results; res.res.Written != 1<<20 || res.res.Err != nil {
		t.Errorf("result %+v", res.res)
	}
}

func TestRouterThrow(t *testing.T) {
	results := make(chan served, 2)
	e, srv := routerServer(t, 0, results)
	resp, body := get(t, srv.URL+"/throw", nil)
	if resp.StatusCode != 500 {
		t.Errorf("GET /throw = %d %q, want 500", resp.StatusCode, body)
	}
	if strings.Contains(body, "on purpose") {
		t.Errorf("the guest's error text reached the client: %q", body)
	}
	// StarlingMonkey answers a thrown error with a 500 of its own, and
	// writes the error to stderr (the server log).
	if res := (<-results).res; res.Err == nil && res.Status != 500 {
		t.Errorf("GET /throw: result %+v, want an error or the guest's 500", res)
	}
	if !strings.Contains(e.stderr.String(), "on purpose") {
		t.Errorf("the guest's error is not in its stderr: %q", e.stderr.String())
	}
	resp, body = get(t, srv.URL+"/after", nil)
	if resp.StatusCode != 200 || body != "path: /after\nquery: \n" {
		t.Errorf("after the throw: %d %q", resp.StatusCode, body)
	}
	<-results
}

func TestRouterBodyLimit(t *testing.T) {
	results := make(chan served, 1)
	_, srv := routerServer(t, 1000, results)
	body := io.MultiReader(bytes.NewReader(make([]byte, 5000)))
	resp, err := http.Post(srv.URL+"/echo", "application/octet-stream", body)
	if err == nil {
		got, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && rerr == nil && len(got) > 1000 {
			t.Errorf("a body over the limit was echoed whole (%d bytes)", len(got))
		}
	}
	res := (<-results).res
	var tooBig *http.MaxBytesError
	if !errors.As(res.ClientErr, &tooBig) || tooBig.Limit != 1000 {
		t.Errorf("client error %v, want the 1000-byte limit", res.ClientErr)
	}
}

func TestRouterFetch(t *testing.T) {
	e, srv := routerServer(t, 0, nil)
	otherURL := e.other.URL + "/secret"
	tests := []struct {
		name   string
		target string
		status int
		body   string
	}{
		{"allowed origin", e.upstream.URL + "/data", 202, "upstream says /data"},
		{"another origin", otherURL, 502, "fetch failed"},
		{"metadata address", "http://169.254.169.254/latest/meta-data/", 502, "fetch failed"},
		{"name resolving to metadata", "http://metadata.test/latest/meta-data/", 502, "fetch failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.ext.Stats().Refused
			resp, body := get(t, srv.URL+"/fetch?url="+url.QueryEscape(tt.target), nil)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.body) {
				t.Errorf("fetch %s = %d %q, want %d %q", tt.target, resp.StatusCode, body, tt.status, tt.body)
			}
			refused := e.ext.Stats().Refused - before
			if want := tt.status == 502; want != (refused == 1) {
				t.Errorf("the policy refused %d calls", refused)
			}
		})
	}
	t.Run("POST with a body", func(t *testing.T) {
		body := strings.Repeat("0123456789abcdef", 20<<10) // 320 kB
		resp, err := http.Post(srv.URL+"/fetch?url="+url.QueryEscape(e.upstream.URL+"/post"), "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 202 || string(got) != "upstream got "+body {
			t.Errorf("POST fetch = %d with %d bytes, want 202 and the body relayed", resp.StatusCode, len(got))
		}
	})
	if _, hit := e.hits.Load("other/secret"); hit {
		t.Error("the refused origin was reached")
	}
}

func TestRouterConcurrent(t *testing.T) {
	_, srv := routerServer(t, 0, nil)
	for i := range 60 {
		resp, body := get(t, srv.URL+"/seq?i="+string(rune('a'+i%26)), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + "/teapot")
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 418 || string(b) != "short and stout\n" {
				errs <- resp.Status + " " + string(b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
