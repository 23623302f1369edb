package apps_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/apps"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

func warmOf(set *apps.Set, name string) (warm bool, generation uint64) {
	for _, a := range set.Report().Apps {
		if a.Name == name {
			return a.Warm, a.Generation
		}
	}
	return false, 0
}

// TestLazyApps: with Lazy no module app starts at Apply; its first
// request starts it; a module that cannot start answers 503 (and does not
// stop the others); a module changed while cold is the one started.
func TestLazyApps(t *testing.T) {
	t.Parallel()
	set := apps.NewSet(apps.Options{Lazy: true})
	srv := httptest.NewServer(set)
	defer func() { srv.Close(); set.Close(context.Background()) }()
	ctx := t.Context()
	bad := moduleSpec(t, "bad", "", []byte("\x00asm\x01\x00\x00\x00"), "/bad")
	if _, err := set.Apply(ctx, []apps.Spec{moduleSpec(t, "a", "A", configlog, "/a/..."), bad}); err != nil {
		t.Fatalf("a lazy apply starts nothing, so fails on nothing: %v", err)
	}
	if warm, _ := warmOf(set, "a"); warm {
		t.Fatal("a lazy app is warm before its first request")
	}
	if !set.Healthy() {
		t.Error("cold apps make the set unhealthy")
	}
	if code, got := body(t, srv.URL+"/a/1"); code != 200 || got != "A" {
		t.Fatalf("first request: %d %q", code, got)
	}
	if warm, gen := warmOf(set, "a"); !warm || gen != 1 {
		t.Fatalf("after the first request: warm %v generation %d", warm, gen)
	}
	for range 2 {
		if code, _ := body(t, srv.URL+"/bad"); code != 503 {
			t.Errorf("a module that cannot start: %d, want 503", code)
		}
	}
	// A new module for a cold app is the one it starts with.
	if _, err := set.Apply(ctx, []apps.Spec{moduleSpec(t, "a", "A", configlog, "/a/..."), moduleSpec(t, "bad", "", hello, "/bad")}); err != nil {
		t.Fatal(err)
	}
	if code, got := body(t, srv.URL+"/bad"); code != 200 || got != "Hello from wasmserve: /bad\n" {
		t.Errorf("the reloaded cold app: %d %q", code, got)
	}
}

// TestIdleAppTimeout: an app idle past the timeout releases its handler,
// and its next request starts it again.
func TestIdleAppTimeout(t *testing.T) {
	t.Parallel()
	set := apps.NewSet(apps.Options{IdleTimeout: 50 * time.Millisecond})
	srv := httptest.NewServer(set)
	defer func() { srv.Close(); set.Close(context.Background()) }()
	if _, err := set.Apply(t.Context(), []apps.Spec{moduleSpec(t, "a", "A", configlog, "/a/...")}); err != nil {
		t.Fatal(err)
	}
	if warm, gen := warmOf(set, "a"); !warm || gen != 1 {
		t.Fatalf("an eager app with an idle timeout: warm %v generation %d, want started", warm, gen)
	}
	testguest.WaitFor(t, "the idle app released", func() bool { warm, _ := warmOf(set, "a"); return !warm })
	if st := set.AppStats(); len(st) != 1 || st[0].Size != 0 || !st[0].Healthy {
		t.Errorf("a released app's stats: %+v", st)
	}
	if code, got := body(t, srv.URL+"/a/again"); code != 200 || got != "A" {
		t.Fatalf("after release: %d %q", code, got)
	}
	// Started again (it may be released again by now: no clock here).
	if _, gen := warmOf(set, "a"); gen != 2 {
		t.Errorf("after its next request: generation %d, want 2", gen)
	}
}
