package wasihttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"unsafe"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

func TestMain(m *testing.M) { os.Exit(testguest.Main(m)) }

// componentizeJS returns the componentize-js command's directory of npm
// tools (holding node_modules), or "" when there is none.
func npmTools() string {
	if d := os.Getenv("NPMTOOLS"); d != "" {
		return d
	}
	for _, d := range []string{"/tmp/npmtools"} {
		if _, err := os.Stat(filepath.Join(d, "node_modules/.bin/componentize-js")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("componentize-js"); err == nil {
		// node_modules/.bin/componentize-js → the directory holding
		// node_modules.
		return filepath.Dir(filepath.Dir(filepath.Dir(p)))
	}
	return ""
}

var jsRouter struct {
	once sync.Once
	path string
	err  error
	skip string
}

// buildJSRouter builds guest-examples/js-router with its build.sh, once
// per source: the component lands in the user's cache directory under the
// hash of its sources, since a build takes half a minute.
func buildJSRouter(t testing.TB) string {
	t.Helper()
	jsRouter.once.Do(func() {
		tools := npmTools()
		if tools == "" {
			jsRouter.skip = "componentize-js not found (in /tmp/npmtools, $NPMTOOLS or on PATH): the JS router cannot be built"
			return
		}
		src := testguest.Path("guest-examples/js-router")
		h := sha256.New()
		for _, f := range []string{"router.js", "build.sh"} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				jsRouter.err = err
				return
			}
			h.Write(b)
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "wasmserve-test", "js-router")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			jsRouter.err = err
			return
		}
		out := filepath.Join(dir, hex.EncodeToString(h.Sum(nil)[:12])+".wasm")
		if _, err := os.Stat(out); err == nil {
			jsRouter.path = out
			return
		}
		tmp := out + fmt.Sprintf(".%d.tmp", os.Getpid())
		cmd := exec.Command("sh", filepath.Join(src, "build.sh"), tmp)
		cmd.Env = append(os.Environ(), "NPMTOOLS="+tools)
		if b, err := cmd.CombinedOutput(); err != nil {
			jsRouter.err = fmt.Errorf("building the JS router: %v\n%s", err, b)
			return
		}
		jsRouter.err = os.Rename(tmp, out)
		jsRouter.path = out
	})
	if jsRouter.skip != "" {
		t.Skip(jsRouter.skip)
	}
	if jsRouter.err != nil {
		t.Fatal(jsRouter.err)
	}
	return jsRouter.path
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
	if err := Define(h, Config{Outbound: policyHostOf(ext)}); err != nil {
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

// policyHostOf returns the outbound.Host behind an Extension: its Send is
// the policy and transport the extension gives wasmserve_http's guests.
// The package exports no accessor for it, so the test reads the
// unexported field; an accessor (Extension.Host) would replace this.
func policyHostOf(e *outbound.Extension) *outbound.Host {
	f := reflect.ValueOf(e).Elem().FieldByName("host")
	return *(**outbound.Host)(unsafe.Pointer(f.UnsafeAddr()))
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
