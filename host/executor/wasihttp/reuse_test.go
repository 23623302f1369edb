package wasihttp

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

// TestReuse serves several requests on one instance: the C component
// answers each, the JS router only its first (StarlingMonkey's fetch event
// responds once per instance), which is why components get a fresh
// instance per request by default.
func TestReuse(t *testing.T) {
	ctx := context.Background()
	t.Run("C answers every request", func(t *testing.T) {
		c, f := loadComponent(t, testguest.Path("guest-examples/component-c/router.wasm"), wasip2.Config{}, Config{})
		inst, err := c.Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer inst.Close(ctx)
		for i := range 5 {
			w := httptest.NewRecorder()
			res := Serve(ctx, inst, f, w, httptest.NewRequest("GET", "/n", nil), ServeOptions{})
			if res.Err != nil || w.Code != 200 || w.Body.String() != "hello from C: /n\n" {
				t.Fatalf("request %d: %+v %d %q", i, res, w.Code, w.Body.String())
			}
		}
	})
	t.Run("JS answers once", func(t *testing.T) {
		e := routerEnv(t)
		inst, err := e.c.Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer inst.Close(ctx)
		inst.Data = &testData{st: &State{}}
		w := httptest.NewRecorder()
		if res := Serve(ctx, inst, e.handle, w, httptest.NewRequest("GET", "/one", nil), ServeOptions{}); res.Err != nil || w.Code != 200 {
			t.Fatalf("first request: %+v %d", res, w.Code)
		}
		w = httptest.NewRecorder()
		res := Serve(ctx, inst, e.handle, w, httptest.NewRequest("GET", "/two", nil), ServeOptions{})
		if res.Err == nil && w.Code == 200 {
			t.Skip("this StarlingMonkey answers a second request on one instance")
		}
		t.Logf("second request on one JS instance: %+v", res)
	})
}
