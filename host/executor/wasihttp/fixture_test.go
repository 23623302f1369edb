package wasihttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

// loadFixture loads testdata/name (a component built from its .wat by jco
// parse) on a host with wasip2 and wasi:http.
func loadFixture(t *testing.T, name string, cfg Config) (*component.Component, *component.Func) {
	t.Helper()
	return loadComponent(t, "testdata/"+name, wasip2.Config{}, cfg)
}

// loadComponent loads the component at path on a host with wasip2 (wcfg)
// and wasi:http (cfg), in a runtime of its own, and finds its handler.
func loadComponent(t *testing.T, path string, wcfg wasip2.Config, cfg Config) (*component.Component, *component.Func) {
	t.Helper()
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := &component.Host{}
	if err := wasip2.Define(h, wcfg); err != nil {
		t.Fatal(err)
	}
	if err := Define(h, cfg); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	c, err := component.Load(ctx, rt, bin, h)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Func(IncomingHandler, "handle")
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

func TestHandlerFixture(t *testing.T) {
	c, f := loadFixture(t, "handler.wasm", Config{})
	results := make(chan served, 1)
	srv := httptest.NewServer(serveHandler(c, f, 0, results))
	defer srv.Close()
	tests := []struct {
		name       string
		method     string
		status     int // 0: the response is cut short
		header     string
		trapped    bool
		noResponse bool
		committed  bool
		errHas     string
	}{
		{"outparam never set", "GET", 500, "", false, true, false, "without setting the response-outparam"},
		{"outparam set twice", "POST", 0, "", true, false, true, "response-outparam"},
		{"fields rules", "PUT", 200, "", false, false, true, ""},
		{"trap before answering", "DELETE", 500, "", true, false, false, "unreachable"},
		{"error-code answered", "PATCH", 500, "", false, true, false, "internal-error"},
		{"from-list header", "OPTIONS", 204, "yes", false, false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+"/x", nil)
			resp, err := http.DefaultClient.Do(req)
			res := (<-results).res
			switch {
			case tt.status == 0:
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if err == nil && resp.ContentLength != 0 {
					t.Errorf("%s: the response was not cut short", tt.method)
				}
			case err != nil:
				t.Fatal(err)
			default:
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Errorf("%s = %d, want %d", tt.method, resp.StatusCode, tt.status)
				}
				if got := resp.Header.Get("X-From-List"); got != tt.header {
					t.Errorf("x-from-list = %q, want %q", got, tt.header)
				}
			}
			if res.Trapped != tt.trapped || res.NoResponse != tt.noResponse || res.Committed != tt.committed {
				t.Errorf("result %+v: want trapped %v, no response %v, committed %v", res, tt.trapped, tt.noResponse, tt.committed)
			}
			if tt.errHas == "" && res.Err != nil || tt.errHas != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tt.errHas)) {
				t.Errorf("error %v, want one saying %q", res.Err, tt.errHas)
			}
		})
	}
}

func TestBodyFixture(t *testing.T) {
	c, f := loadFixture(t, "body.wasm", Config{})
	results := make(chan served, 1)
	srv := httptest.NewServer(serveHandler(c, f, 1<<20, results))
	defer srv.Close()
	tests := []struct {
		name     string
		size     int
		trailer  http.Header
		clientOK bool // the response arrives whole
	}{
		{"empty", 0, nil, true},
		{"small with a trailer", 100, http.Header{"X-Checksum": {"abc"}}, true},
		{"several chunks with two trailers", 200 << 10, http.Header{"X-Checksum": {"def"}, "X-Count": {"2"}}, true},
		{"over the body limit", 2 << 20, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Repeat("z", tt.size)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", io.MultiReader(strings.NewReader(body)))
			req.ContentLength = -1
			req.Trailer = tt.trailer
			resp, err := http.DefaultClient.Do(req)
			var got []byte
			if err == nil {
				got, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			res := (<-results).res
			if !tt.clientOK {
				var tooBig *http.MaxBytesError
				if !errors.As(res.ClientErr, &tooBig) || !res.Trapped {
					t.Errorf("result %+v: want the guest trapped on a body over the limit", res)
				}
				if err == nil && len(got) == tt.size {
					t.Errorf("a body over the limit was echoed whole")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != body {
				t.Errorf("echoed %d bytes, want %d", len(got), tt.size)
			}
			for k, v := range tt.trailer {
				if g := resp.Trailer.Get(k); g != v[0] {
					t.Errorf("trailer %s = %q, want %q (trailers %v)", k, g, v[0], resp.Trailer)
				}
			}
			if res.Err != nil || res.Written != int64(tt.size) {
				t.Errorf("result %+v", res)
			}
		})
	}
}

// TestBodyTimeout: a guest blocked reading the body of a client that
// stopped sending is ended by the request's context (the handler
// timeout), and the failure is not the client's.
func TestBodyTimeout(t *testing.T) {
	c, f := loadFixture(t, "body.wasm", Config{})
	results := make(chan Result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 100*time.Millisecond)
		defer cancel()
		inst, err := c.Instantiate(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		defer inst.Close(context.Background())
		results <- Serve(ctx, inst, f, w, r, ServeOptions{})
	}))
	defer srv.Close()
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		pw.Write([]byte("the start, then nothing"))
	}()
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, pr)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	select {
	case res := <-results:
		if res.Err == nil || res.ClientErr != nil {
			t.Errorf("result %+v: want the guest's failure, not the client's", res)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the guest blocked in a body read was not ended by its context")
	}
}
