package host

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names wasmserve's spans' instrumentation scope.
const tracerName = "github.com/wasmserve/wasmserve/host"

// traceContext reads and writes W3C traceparent and tracestate headers.
var traceContext = propagation.TraceContext{}

// startServerSpan starts the server span of r, continuing the trace of an
// incoming traceparent, and returns r with it in its context.
func (s *Server) startServerSpan(r *http.Request) (*http.Request, trace.Span) {
	ctx := traceContext.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := s.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("url.path", r.URL.Path),
			attribute.String("network.protocol.version", r.Proto),
			attribute.String("client.address", r.RemoteAddr),
		))
	return r.WithContext(ctx), span
}

// endServerSpan ends the server span of a finished request.
func endServerSpan(span trace.Span, rw *recorder) {
	span.SetAttributes(
		attribute.Int("http.response.status_code", rw.status),
		attribute.Int64("http.response.body.size", rw.bytes),
		attribute.String("wasmserve.request_id", rw.info.id),
	)
	if rw.info.isolate != "" {
		span.SetAttributes(attribute.String("wasmserve.isolate", rw.info.isolate))
	}
	if rw.status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(rw.status))
	}
	span.End()
}

// childSpan starts a span under the one in r's context, and returns r with
// it in its context; without a recording span there (tracing off) it
// returns r and nil, costing nothing.
func childSpan(r *http.Request, name string, kind trace.SpanKind) (*http.Request, trace.Span) {
	parent := trace.SpanFromContext(r.Context())
	if !parent.IsRecording() {
		return r, nil
	}
	ctx, span := parent.TracerProvider().Tracer(tracerName).Start(r.Context(), name, trace.WithSpanKind(kind))
	return r.WithContext(ctx), span
}

// endSpan ends a child span, recording err as its failure.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// tracingTransport gives each upstream request of middleware mode a client
// span under the guest's, and sends its traceparent to the upstream.
type tracingTransport struct{ rt http.RoundTripper }

func (t tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out, span := childSpan(req, "upstream "+req.Method, trace.SpanKindClient)
	if span == nil {
		return t.rt.RoundTrip(req)
	}
	out.Header = req.Header.Clone() // a RoundTripper must not change its request
	traceContext.Inject(out.Context(), propagation.HeaderCarrier(out.Header))
	span.SetAttributes(attribute.String("http.request.method", req.Method),
		attribute.String("server.address", req.URL.Host), attribute.String("url.full", req.URL.Redacted()))
	resp, err := t.rt.RoundTrip(out)
	if err == nil {
		span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
		if resp.StatusCode >= 500 {
			span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
		}
	}
	endSpan(span, err)
	return resp, err
}
