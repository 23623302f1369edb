package wasihttp_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/tetratelabs/wazero"

	"github.com/wasmserve/wasmserve/host/executor/wasihttp"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

// instanceData is what an executor keeps in an instance's Data: here only
// the wasi:http state.
type instanceData struct{ http wasihttp.State }

func (d *instanceData) HTTPState() *wasihttp.State { return &d.http }

// Serve a wasi:http component: a fresh instance per request, failures
// answered by the caller.
func ExampleServe() {
	ctx := context.Background()
	bin, err := os.ReadFile("../../../guest-examples/component-c/router.wasm")
	if err != nil {
		log.Fatal(err)
	}
	h := &component.Host{}
	if err := wasip2.Define(h, wasip2.Config{}); err != nil {
		log.Fatal(err)
	}
	if err := wasihttp.Define(h, wasihttp.Config{}); err != nil { // no outbound calls
		log.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	c, err := component.Load(ctx, rt, bin, h)
	if err != nil {
		log.Fatal(err)
	}
	handle, err := c.Func(wasihttp.IncomingHandler, "handle")
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inst, err := c.Instantiate(r.Context())
		if err != nil {
			http.Error(w, "500 handler error", http.StatusInternalServerError)
			return
		}
		defer inst.Close(context.Background())
		inst.Data = &instanceData{http: wasihttp.State{ID: "example"}}
		res := wasihttp.Serve(r.Context(), inst, handle, w, r, wasihttp.ServeOptions{MaxBody: 1 << 20})
		if (res.Err != nil || res.ClientErr != nil) && !res.Committed {
			http.Error(w, "500 handler error", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/hello?x=1")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output: 200 hello from C: /hello?x=1
}
