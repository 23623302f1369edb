package wasihttp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

func TestMain(m *testing.M) { os.Exit(testguest.Main(m)) }

// buildJSRouter builds guest-examples/js-router with componentize-js,
// once per source (see testguest.BuildComponent).
func buildJSRouter(t testing.TB) string {
	t.Helper()
	return testguest.BuildComponent(t, "guest-examples/js-router")
}

// testData is an instance's Data in the tests: the wasi:http state.
type testData struct{ st *State }

func (d *testData) HTTPState() *State { return d.st }

// env is the shared setup of the tests that serve the JS router: the
// upstream servers its fetches go to and the policy's extension.
type env struct {
	c        *component.Component
	handle   *component.Func
	upstream *httptest.Server // allowed by the policy
	other    *httptest.Server // not allowed
	ext      *outbound.Extension
	hits     sync.Map // path → count of upstream hits
	stderr   testguest.SyncBuffer
}

var shared struct {
	once sync.Once
	env  *env
	err  error
}

// routerEnv loads the JS router once for the package, on a host whose
// outbound policy allows the upstream test server's origin and any
// http origin on any port by pattern (so that blocked networks are what
// refuses the others, after DNS).
func routerEnv(t testing.TB) *env {
	t.Helper()
	path := buildJSRouter(t)
	cache := testguest.CacheDir(t)
	shared.once.Do(func() { shared.env, shared.err = newEnv(path, cache) })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

func newEnv(path, cacheDir string) (*env, error) {
	e := &env{}
	e.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := e.hits.LoadOrStore(r.URL.Path, new(int))
		*n.(*int)++
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusAccepted)
		if r.Method == http.MethodPost {
			io.WriteString(w, "upstream got ")
			io.Copy(w, r.Body)
			return
		}
		io.WriteString(w, "upstream says "+r.URL.Path)
	}))
	e.other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := e.hits.LoadOrStore("other"+r.URL.Path, new(int))
		*n.(*int)++
		io.WriteString(w, "other")
	}))
	ext, err := outbound.New(outbound.Config{
		Allow: []string{e.upstream.URL, "http://*:*"},
		LookupIP: func(ctx context.Context, host string) ([]netip.Addr, error) {
			if host == "metadata.test" {
				return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
			}
			return nil, errors.New("no such host in the test resolver")
		},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	e.ext = ext
	h := &component.Host{}
	if err := wasip2.Define(h, wasip2.Config{Stderr: &e.stderr}); err != nil {
		return nil, err
	}
	if err := Define(h, Config{Outbound: ext.Host()}); err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
	if err != nil {
		return nil, err
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	if e.c, err = component.Load(ctx, rt, bin, h); err != nil {
		return nil, err
	}
	if e.handle, err = e.c.Func("wasi:http/incoming-handler@0.2.0", "handle"); err != nil {
		return nil, err
	}
	return e, nil
}

// served is one request served by serveHandler: its Result.
type served struct {
	path string
	res  Result
}

// serveHandler serves each request on a fresh instance of c, as the
// executor does, and answers failures as the handler core does: 413 for a
// body over the limit, 500 for a failing guest, the response cut short
// when committed. Each Result goes to results, if not nil.
func serveHandler(c *component.Component, handle *component.Func, maxBody int64, results chan<- served) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inst, err := c.Instantiate(r.Context())
		if err != nil {
			http.Error(w, "instantiating: "+err.Error(), http.StatusInternalServerError)
			return
		}
		defer inst.Close(context.Background())
		inst.Data = &testData{st: &State{ID: "test"}}
		res := Serve(r.Context(), inst, handle, w, r, ServeOptions{MaxBody: maxBody})
		if results != nil {
			results <- served{r.URL.Path, res}
		}
		out := res.Outcome()
		switch {
		case out.Err == nil && out.ClientErr == nil:
			return
		case out.Committed:
			panic(http.ErrAbortHandler)
		}
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(out.Err, &tooBig) || errors.As(out.ClientErr, &tooBig):
			http.Error(w, "413 request body too large", http.StatusRequestEntityTooLarge)
		case out.Err != nil:
			http.Error(w, "500 handler error", http.StatusInternalServerError)
		default:
			http.Error(w, "400 malformed request body", http.StatusBadRequest)
		}
	})
}
