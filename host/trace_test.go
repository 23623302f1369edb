package host

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/wasmserve/wasmserve/host/executor/httpwasm"
	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestTracing: a request with a traceparent gets a server span in that
// trace under the caller's span, a guest span under it, and an upstream
// span under that, whose traceparent reaches the upstream; all exported
// over OTLP/HTTP to an in-process receiver.
func TestTracing(t *testing.T) {
	recv := &testguest.OTLPReceiver{}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(collector.URL+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	defer tp.Shutdown(context.Background())

	var upstreamParent string
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamParent = r.Header.Get("Traceparent")
		io.WriteString(w, "origin")
	}))
	defer origin.Close()
	h := newTestHandler(t, readFile(t, "host/testdata/middleware.wasm"), withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{Upstream: origin.URL}))
	_, base := startServer(t, server.Config{Tracer: tp}, h)

	const traceID, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest("GET", base+"/users", nil)
	req.Header.Set("Traceparent", "00-"+traceID+"-"+callerSpan+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	byName := map[string]*tracepb.Span{}
	for _, s := range recv.Spans() {
		byName[s.Name] = s
		if got := hex.EncodeToString(s.TraceId); got != traceID {
			t.Errorf("span %s in trace %s, want the caller's %s", s.Name, got, traceID)
		}
	}
	server, guest, upstream := byName["GET"], byName["guest"], byName["upstream GET"]
	if server == nil || guest == nil || upstream == nil {
		t.Fatalf("spans %v, want GET, guest and upstream GET", byName)
	}
	for _, c := range []struct {
		name         string
		span         *tracepb.Span
		parent       string
		kind         tracepb.Span_SpanKind
		wantAttr     string
		wantAttrText string
	}{
		{"server", server, callerSpan, tracepb.Span_SPAN_KIND_SERVER, "http.response.status_code", "200"},
		{"guest", guest, hex.EncodeToString(server.SpanId), tracepb.Span_SPAN_KIND_INTERNAL, "wasmserve.isolate", "i1"},
		{"upstream", upstream, hex.EncodeToString(guest.SpanId), tracepb.Span_SPAN_KIND_CLIENT, "http.response.status_code", "200"},
	} {
		if got := hex.EncodeToString(c.span.ParentSpanId); got != c.parent {
			t.Errorf("%s span's parent %s, want %s", c.name, got, c.parent)
		}
		if c.span.Kind != c.kind {
			t.Errorf("%s span kind %v, want %v", c.name, c.span.Kind, c.kind)
		}
		found := false
		for _, a := range c.span.Attributes {
			if a.Key == c.wantAttr {
				found = strings.Contains(a.Value.String(), c.wantAttrText)
			}
		}
		if !found {
			t.Errorf("%s span lacks %s=%s: %v", c.name, c.wantAttr, c.wantAttrText, c.span.Attributes)
		}
	}
	want := "00-" + traceID + "-" + hex.EncodeToString(upstream.SpanId) + "-01"
	if upstreamParent != want {
		t.Errorf("the upstream got traceparent %q, want %q", upstreamParent, want)
	}
}

// TestNoTracingWithoutTracer: without a Tracer nothing is traced, and the
// upstream gets no traceparent of ours.
func TestNoTracingWithoutTracer(t *testing.T) {
	var got []string
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Values("Traceparent")
	}))
	defer origin.Close()
	h := newTestHandler(t, readFile(t, "host/testdata/middleware.wasm"), withHTTPWasm(HandlerConfig{Isolates: 1}, httpwasm.Config{Upstream: origin.URL}))
	_, base := startServer(t, server.Config{}, h)
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(got) != 0 {
		t.Errorf("traceparent %q sent without tracing", got)
	}
}
