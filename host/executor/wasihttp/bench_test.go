package wasihttp

import (
	"context"
	"net/http/httptest"
	"testing"
)

// BenchmarkJSRouter serves GET / on a fresh instance of the JS router per
// request (instantiate, serve, close), as the executor does without
// pre-instantiated spares or copy-on-write memory.
func BenchmarkJSRouter(b *testing.B) {
	e := routerEnv(b)
	ctx := context.Background()
	b.Run("instantiate+close", func(b *testing.B) {
		for b.Loop() {
			inst, err := e.c.Instantiate(ctx)
			if err != nil {
				b.Fatal(err)
			}
			inst.Close(ctx)
		}
	})
	inst, err := e.c.Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("serve on a fresh instance", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			inst, err := e.c.Instantiate(ctx)
			if err != nil {
				b.Fatal(err)
			}
			inst.Data = &testData{st: &State{}}
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/bench?x=1", nil)
			b.StartTimer()
			res := Serve(ctx, inst, e.handle, w, r, ServeOptions{})
			b.StopTimer()
			if res.Err != nil || w.Code != 200 {
				b.Fatalf("%+v %d", res, w.Code)
			}
			inst.Close(ctx)
			b.StartTimer()
		}
	})
	inst.Close(ctx)
}
