package apps_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/wasmserve/wasmserve/host/apps"
	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestAppOnEveryRecord: behind host/server, the app of each request is on
// its access-log line (the slog form), its metrics and its server span;
// a request no app serves has none (and the empty app label).
func TestAppOnEveryRecord(t *testing.T) {
	t.Parallel()
	set := apps.NewSet(apps.Options{})
	defer set.Close(context.Background())
	if _, err := set.Apply(t.Context(), []apps.Spec{moduleSpec(t, "a", "A", configlog, "/a/...")}); err != nil {
		t.Fatal(err)
	}
	var logBuf testguest.SyncBuffer
	spans := tracetest.NewSpanRecorder()
	m := observe.NewAppMetrics()
	m.CollectApps(set.AppStats)
	srv := server.NewServer(server.Config{Address: "127.0.0.1", AccessLog: slog.New(slog.NewJSONHandler(&logBuf, nil)),
		Metrics: m, Tracer: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))}, set)
	if err := srv.Listen(t.Context()); err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer srv.Close()
	base := "http://" + srv.Addr().String()
	for _, p := range []string{"/a/1", "/none"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	testguest.WaitFor(t, "two access-log lines", func() bool { return strings.Count(logBuf.String(), "\n") >= 2 })
	for _, line := range strings.Split(strings.TrimSpace(logBuf.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		app, has := l["app"]
		switch l["path"] {
		case "/a/1":
			if app != "a" {
				t.Errorf("access line of /a/1: app %v", app)
			}
		case "/none":
			if has {
				t.Errorf("access line of an unrouted request has app %v", app)
			}
		}
	}
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			var labels []string
			for _, lp := range mt.GetLabel() {
				labels = append(labels, lp.GetName()+"="+lp.GetValue())
			}
			v := mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
			series[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	for name, want := range map[string]float64{
		"wasmserve_http_requests_total{app=a,code=200,method=GET,proto=HTTP/1.1}": 1,
		"wasmserve_http_requests_total{app=,code=404,method=GET,proto=HTTP/1.1}":  1,
		"wasmserve_isolates_configured{app=a}":                                    2,
	} {
		if got, ok := series[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	testguest.WaitFor(t, "two spans", func() bool { return len(spans.Ended()) >= 2 })
	var apped int
	for _, s := range spans.Ended() {
		for _, a := range s.Attributes() {
			if a.Key == "wasmserve.app" && a.Value.AsString() == "a" {
				apped++
			}
		}
	}
	if apped != 1 {
		t.Errorf("%d spans with wasmserve.app=a, want 1", apped)
	}
}
