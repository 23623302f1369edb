package host

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/host/executor/cgi"
	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/host/server"
)

// withHTTPWasm returns cfg with the http-wasm executor configured by hw
// (the guest config, an upstream and its tuning, the buffered body bound),
// ahead of CGI as in DefaultExecutors.
func withHTTPWasm(cfg HandlerConfig, hw httpwasm.Config) HandlerConfig {
	cfg.Executors = []executor.Kind{httpwasm.Kind(hw), cgi.Kind}
	return cfg
}

// withOutbound returns cfg offering guests the outbound HTTP extension of
// oc, which logs its refusals to cfg.Logger, and the extension, for its
// stats and metrics. The zero oc refuses every call, as a handler without
// an outbound configuration did before extensions. The handler closes the
// extension; so does the end of the test, for one no handler took.
func withOutbound(t testing.TB, cfg HandlerConfig, oc outbound.Config) (HandlerConfig, *outbound.Extension) {
	t.Helper()
	ob, err := outbound.New(oc, cfg.Logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close(context.Background()) })
	cfg.Extensions = append(cfg.Extensions[:len(cfg.Extensions):len(cfg.Extensions)], ob)
	return cfg, ob
}

// startServer serves h with wasmserve's server on 127.0.0.1, port 0, with
// cfg, until the test ends; it returns the server and its base URL.
func startServer(t *testing.T, cfg server.Config, h http.Handler) (*server.Server, string) {
	t.Helper()
	cfg.Address = "127.0.0.1"
	srv := server.NewServer(cfg, h)
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
	})
	return srv, "http://" + srv.Addr().String()
}

// saneRequestID reports whether s is a request id the server could have
// made or kept: 1 to 128 token characters.
var saneRequestID = regexp.MustCompile(`^[A-Za-z0-9._:+/=@-]{1,128}$`).MatchString
