// Package observe is how wasmserve is watched from outside: request spans
// for OpenTelemetry tracing, and the helpers the layers of a request share
// to record them.
package observe

import (
	"net/http"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TracerName names wasmserve's spans' instrumentation scope.
const TracerName = "github.com/wasmserve/wasmserve/host"

// TraceContext reads and writes W3C traceparent and tracestate headers.
var TraceContext = propagation.TraceContext{}

// ChildSpan starts a span under the one in r's context, and returns r with
// it in its context; without a recording span there (tracing off) it
// returns r and nil, costing nothing.
func ChildSpan(r *http.Request, name string, kind trace.SpanKind) (*http.Request, trace.Span) {
	parent := trace.SpanFromContext(r.Context())
	if !parent.IsRecording() {
		return r, nil
	}
	ctx, span := parent.TracerProvider().Tracer(TracerName).Start(r.Context(), name, trace.WithSpanKind(kind))
	return r.WithContext(ctx), span
}

// EndSpan ends a child span, recording err as its failure.
func EndSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
