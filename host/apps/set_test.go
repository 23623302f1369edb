package apps_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wasmserve/wasmserve/host"
	"github.com/wasmserve/wasmserve/host/apps"
	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

func TestMain(m *testing.M) { testguest.Main(m) }

var (
	configlog = mustRead("host/testdata/configlog.wasm")
	hello     = mustRead("guest-examples/hello-wat/hello.wasm")
)

func mustRead(rel string) []byte {
	b, err := os.ReadFile(testguest.Path(rel))
	if err != nil {
		panic(err)
	}
	return b
}

// moduleSpec is an app of a real host.Handler whose guest answers config
// (configlog.wasm), or, given another module, what that module answers.
func moduleSpec(t *testing.T, name, config string, wasm []byte, routes ...string) apps.Spec {
	t.Helper()
	var rs []apps.Route
	for _, s := range routes {
		r, err := apps.ParseRoute(s)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return apps.Spec{Name: name, Kind: apps.KindModule, Routes: rs, Config: config, Module: wasm,
		New: func(ctx context.Context, wasm []byte) (apps.Handler, error) {
			return host.NewHandler(ctx, wasm, host.HandlerConfig{Isolates: 2, CacheDir: testguest.CacheDir(t),
				Executors: []executor.Kind{httpwasm.Kind(httpwasm.Config{GuestConfig: []byte(config)})}})
		}}
}

func body(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSetApply(t *testing.T) {
	t.Parallel()
	set := apps.NewSet(apps.Options{})
	srv := httptest.NewServer(set)
	defer func() { srv.Close(); set.Close(context.Background()) }()
	ctx := t.Context()
	ch, err := set.Apply(ctx, []apps.Spec{
		moduleSpec(t, "a", "A", configlog, "/a/..."),
		moduleSpec(t, "b", "B", configlog, "/b/..."),
		moduleSpec(t, "hello", "", hello, "/hello/..."),
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ch.Added, ",") != "a,b,hello" {
		t.Fatalf("changes %+v", ch)
	}
	for path, want := range map[string]string{"/a/x": "A", "/b": "B", "/hello/there?q=1": "Hello from wasmserve: /hello/there?q=1\n"} {
		if code, got := body(t, srv.URL+path); code != 200 || got != want {
			t.Errorf("GET %s = %d %q, want %q", path, code, got, want)
		}
	}
	if code, _ := body(t, srv.URL+"/c"); code != 404 {
		t.Errorf("unrouted: %d, want 404", code)
	}
	aBefore, bBefore, helloBefore := set.App("a").Handler(), set.App("b").Handler(), set.App("hello").Handler()

	// a unchanged but for a new route; b's configuration changed; hello's
	// module changed; c added.
	ch, err = set.Apply(ctx, []apps.Spec{
		moduleSpec(t, "a", "A", configlog, "/a/...", "/alpha"),
		moduleSpec(t, "b", "B2", configlog, "/b/..."),
		moduleSpec(t, "hello", "", configlog, "/hello/..."),
		moduleSpec(t, "c", "C", configlog, "/c"),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := apps.Changes{Added: []string{"c"}, Replaced: []string{"b"}, Reloaded: []string{"hello"}, Unchanged: []string{"a"}}
	if strings.Join(ch.Added, ",") != "c" || strings.Join(ch.Replaced, ",") != "b" ||
		strings.Join(ch.Reloaded, ",") != "hello" || strings.Join(ch.Unchanged, ",") != "a" || len(ch.Removed) != 0 {
		t.Fatalf("changes %+v, want %+v", ch, want)
	}
	if set.App("a").Handler() != aBefore || set.App("hello").Handler() != helloBefore {
		t.Error("an unchanged or reloaded app got a new handler")
	}
	if set.App("b").Handler() == bBefore {
		t.Error("a changed configuration kept the old handler")
	}
	if g := set.App("hello").Handler().(*host.Handler).Generation(); g != 2 {
		t.Errorf("hello's generation %d after its module changed, want 2", g)
	}
	for path, want := range map[string]string{"/alpha": "A", "/b/": "B2", "/hello/": "", "/c": "C"} {
		if code, got := body(t, srv.URL+path); code != 200 || got != want {
			t.Errorf("GET %s = %d %q, want %q", path, code, got, want)
		}
	}

	// A route claimed twice, or an app that fails to start: nothing
	// changes.
	if _, err := set.Apply(ctx, []apps.Spec{moduleSpec(t, "a", "A", configlog, "/a/..."), moduleSpec(t, "z", "Z", configlog, "/a/...")}); err == nil ||
		!strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), `"z"`) {
		t.Errorf("a route in two apps: %v", err)
	}
	bad := moduleSpec(t, "bad", "", []byte("\x00asm\x01\x00\x00\x00"), "/bad")
	if _, err := set.Apply(ctx, []apps.Spec{moduleSpec(t, "a", "A", configlog, "/a/..."), bad}); err == nil || !strings.Contains(err.Error(), `app "bad"`) {
		t.Errorf("a module that cannot start: %v", err)
	}
	if code, got := body(t, srv.URL+"/c"); code != 200 || got != "C" {
		t.Errorf("after failed applies, GET /c = %d %q: want the old config serving", code, got)
	}

	// Removing b and c closes them once drained.
	bNow := set.App("b").Handler().(*host.Handler)
	ch, err = set.Apply(ctx, []apps.Spec{moduleSpec(t, "a", "A", configlog, "/a/...")})
	if err != nil || strings.Join(ch.Removed, ",") != "b,c,hello" {
		t.Fatalf("remove: %+v %v", ch, err)
	}
	if code, _ := body(t, srv.URL+"/b/"); code != 404 {
		t.Errorf("removed app still routed: %d", code)
	}
	testguest.WaitFor(t, "the removed app closed", func() bool {
		return errors.Is(bNow.Reload(ctx, configlog), host.ErrHandlerClosed)
	})
}

// TestSetApplyUnderLoad applies new manifests while clients hammer every
// app: no request fails, neither on the unchanged app nor on the ones
// replaced, reloaded or removed under it.
func TestSetApplyUnderLoad(t *testing.T) {
	t.Parallel()
	set := apps.NewSet(apps.Options{})
	srv := httptest.NewServer(set)
	defer func() { srv.Close(); set.Close(context.Background()) }()
	ctx := t.Context()
	if _, err := set.Apply(ctx, []apps.Spec{
		moduleSpec(t, "steady", "S", configlog, "/steady/..."),
		moduleSpec(t, "moving", "M0", configlog, "/moving/..."),
	}); err != nil {
		t.Fatal(err)
	}
	steady := set.App("steady").Handler()
	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		ok, fail atomic.Int64
		failMsg  atomic.Value
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	for i := range 4 {
		path := "/steady/x"
		if i%2 == 1 {
			path = "/moving/x"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				resp, err := client.Get(srv.URL + path)
				if err != nil {
					fail.Add(1)
					failMsg.Store(err.Error())
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || len(b) == 0 {
					fail.Add(1)
					failMsg.Store(path + ": " + resp.Status + " " + string(b))
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for i := range 6 {
		var specs []apps.Spec
		specs = append(specs, moduleSpec(t, "steady", "S", configlog, "/steady/..."))
		switch i % 3 {
		case 0: // a new configuration
			specs = append(specs, moduleSpec(t, "moving", "M"+string(rune('a'+i)), configlog, "/moving/..."))
		case 1: // a new module, same configuration
			specs = append(specs, moduleSpec(t, "moving", "M"+string(rune('a'+i-1)), hello, "/moving/..."))
		case 2: // the route moves to another app; the old one is removed
			specs = append(specs, moduleSpec(t, "moved"+string(rune('a'+i)), "X", configlog, "/moving/..."))
		}
		if _, err := set.Apply(ctx, specs); err != nil {
			t.Fatal(err)
		}
		before := ok.Load()
		testguest.WaitFor(t, "requests after the apply", func() bool { return ok.Load() > before+20 })
	}
	stop.Store(true)
	wg.Wait()
	if fail.Load() > 0 {
		t.Fatalf("%d of %d requests failed across the applies; last: %v", fail.Load(), ok.Load()+fail.Load(), failMsg.Load())
	}
	if set.App("steady").Handler() != steady {
		t.Error("the unchanged app got a new handler")
	}
	t.Logf("%d requests across 6 applies", ok.Load())
}
