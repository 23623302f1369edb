package server

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasmserve/wasmserve/host/observe"
)

// startServerSpan starts the server span of r, continuing the trace of an
// incoming traceparent, and returns r with it in its context.
func (s *Server) startServerSpan(r *http.Request) (*http.Request, trace.Span) {
	ctx := observe.TraceContext.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
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
		attribute.String("wasmserve.request_id", rw.info.ID),
	)
	if rw.info.App != "" {
		span.SetAttributes(attribute.String("wasmserve.app", rw.info.App))
	}
	if rw.info.Isolate != "" {
		span.SetAttributes(attribute.String("wasmserve.isolate", rw.info.Isolate))
	}
	if rw.status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(rw.status))
	}
	span.End()
}
