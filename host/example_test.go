package host_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/wasmserve/wasmserve/host"
)

// A Go program mounts a WebAssembly handler in its own mux, beside its
// native routes: the Handler brings the isolate pool, the limits and
// reloads; the program keeps its server.
func ExampleNewHandler() {
	ctx := context.Background()
	wasm, err := os.ReadFile("../guest-examples/hello-wat/hello.wasm")
	if err != nil {
		log.Fatal(err)
	}
	wh, err := host.NewHandler(ctx, wasm, host.HandlerConfig{
		Isolates:       2,               // two isolates, each with its own memory
		HandlerTimeout: 5 * time.Second, // a guest past it is interrupted: 504
		MaxBody:        1 << 20,         // a bigger request body: 413
	})
	if err != nil {
		log.Fatal(err)
	}
	defer wh.Close(ctx)

	mux := http.NewServeMux()
	mux.Handle("/wasm/", http.StripPrefix("/wasm", wh))
	mux.HandleFunc("/native", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "native Go\n")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, path := range []string{"/wasm/greet", "/native"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(string(body))
	}
	// Output:
	// Hello from wasmserve: /greet
	// native Go
}

// Reload swaps the module while requests keep being served: those inside
// an isolate of the old module finish there.
func ExampleHandler_Reload() {
	ctx := context.Background()
	hello, err := os.ReadFile("../guest-examples/hello-wat/hello.wasm")
	if err != nil {
		log.Fatal(err)
	}
	wh, err := host.NewHandler(ctx, hello, host.HandlerConfig{Isolates: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer wh.Close(ctx)
	if err := wh.Reload(ctx, hello); err != nil {
		log.Fatal(err)
	}
	fmt.Println("generation", wh.Generation())
	// Output:
	// generation 2
}
