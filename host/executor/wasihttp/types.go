package wasihttp

import (
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// The resource types of wasi:http/types. A guest's handles to them hold the
// Go values of this package (*fields, *incomingRequest…).
var (
	fieldsRes                 = &cabi.Resource{Name: "fields"}
	incomingRequestRes        = &cabi.Resource{Name: "incoming-request"}
	outgoingRequestRes        = &cabi.Resource{Name: "outgoing-request"}
	requestOptionsRes         = &cabi.Resource{Name: "request-options"}
	responseOutparamRes       = &cabi.Resource{Name: "response-outparam"}
	incomingResponseRes       = &cabi.Resource{Name: "incoming-response"}
	incomingBodyRes           = &cabi.Resource{Name: "incoming-body"}
	futureTrailersRes         = &cabi.Resource{Name: "future-trailers"}
	outgoingResponseRes       = &cabi.Resource{Name: "outgoing-response"}
	outgoingBodyRes           = &cabi.Resource{Name: "outgoing-body"}
	futureIncomingResponseRes = &cabi.Resource{Name: "future-incoming-response"}
)

func own(r *cabi.Resource) *cabi.Type    { return &cabi.Type{Kind: cabi.KindOwn, Resource: r} }
func borrow(r *cabi.Resource) *cabi.Type { return &cabi.Type{Kind: cabi.KindBorrow, Resource: r} }

// The value types of wasi:http/types, exactly as the WIT declares them.
var (
	// durationType is wasi:clocks/monotonic-clock's duration: u64
	// nanoseconds.
	durationType = cabi.U64Type

	methodType = &cabi.Type{Kind: cabi.KindVariant, Name: "method", Cases: []cabi.Case{
		{Name: "get"}, {Name: "head"}, {Name: "post"}, {Name: "put"}, {Name: "delete"},
		{Name: "connect"}, {Name: "options"}, {Name: "trace"}, {Name: "patch"},
		{Name: "other", Type: cabi.StringType},
	}}

	schemeType = &cabi.Type{Kind: cabi.KindVariant, Name: "scheme", Cases: []cabi.Case{
		{Name: "HTTP"}, {Name: "HTTPS"}, {Name: "other", Type: cabi.StringType},
	}}

	dnsErrorPayloadType = &cabi.Type{Kind: cabi.KindRecord, Name: "DNS-error-payload", Fields: []cabi.Field{
		{Name: "rcode", Type: cabi.OptionOf(cabi.StringType)},
		{Name: "info-code", Type: cabi.OptionOf(cabi.U16Type)},
	}}

	tlsAlertReceivedPayloadType = &cabi.Type{Kind: cabi.KindRecord, Name: "TLS-alert-received-payload", Fields: []cabi.Field{
		{Name: "alert-id", Type: cabi.OptionOf(cabi.U8Type)},
		{Name: "alert-message", Type: cabi.OptionOf(cabi.StringType)},
	}}

	fieldSizePayloadType = &cabi.Type{Kind: cabi.KindRecord, Name: "field-size-payload", Fields: []cabi.Field{
		{Name: "field-name", Type: cabi.OptionOf(cabi.StringType)},
		{Name: "field-size", Type: cabi.OptionOf(cabi.U32Type)},
	}}

	errorCodeType = &cabi.Type{Kind: cabi.KindVariant, Name: "error-code", Cases: []cabi.Case{
		{Name: "DNS-timeout"},
		{Name: "DNS-error", Type: dnsErrorPayloadType},
		{Name: "destination-not-found"},
		{Name: "destination-unavailable"},
		{Name: "destination-IP-prohibited"},
		{Name: "destination-IP-unroutable"},
		{Name: "connection-refused"},
		{Name: "connection-terminated"},
		{Name: "connection-timeout"},
		{Name: "connection-read-timeout"},
		{Name: "connection-write-timeout"},
		{Name: "connection-limit-reached"},
		{Name: "TLS-protocol-error"},
		{Name: "TLS-certificate-error"},
		{Name: "TLS-alert-received", Type: tlsAlertReceivedPayloadType},
		{Name: "HTTP-request-denied"},
		{Name: "HTTP-request-length-required"},
		{Name: "HTTP-request-body-size", Type: cabi.OptionOf(cabi.U64Type)},
		{Name: "HTTP-request-method-invalid"},
		{Name: "HTTP-request-URI-invalid"},
		{Name: "HTTP-request-URI-too-long"},
		{Name: "HTTP-request-header-section-size", Type: cabi.OptionOf(cabi.U32Type)},
		{Name: "HTTP-request-header-size", Type: cabi.OptionOf(fieldSizePayloadType)},
		{Name: "HTTP-request-trailer-section-size", Type: cabi.OptionOf(cabi.U32Type)},
		{Name: "HTTP-request-trailer-size", Type: fieldSizePayloadType},
		{Name: "HTTP-response-incomplete"},
		{Name: "HTTP-response-header-section-size", Type: cabi.OptionOf(cabi.U32Type)},
		{Name: "HTTP-response-header-size", Type: fieldSizePayloadType},
		{Name: "HTTP-response-body-size", Type: cabi.OptionOf(cabi.U64Type)},
		{Name: "HTTP-response-trailer-section-size", Type: cabi.OptionOf(cabi.U32Type)},
		{Name: "HTTP-response-trailer-size", Type: fieldSizePayloadType},
		{Name: "HTTP-response-transfer-coding", Type: cabi.OptionOf(cabi.StringType)},
		{Name: "HTTP-response-content-coding", Type: cabi.OptionOf(cabi.StringType)},
		{Name: "HTTP-response-timeout"},
		{Name: "HTTP-upgrade-failed"},
		{Name: "HTTP-protocol-error"},
		{Name: "loop-detected"},
		{Name: "configuration-error"},
		{Name: "internal-error", Type: cabi.OptionOf(cabi.StringType)},
	}}

	headerErrorType = &cabi.Type{Kind: cabi.KindVariant, Name: "header-error", Cases: []cabi.Case{
		{Name: "invalid-syntax"}, {Name: "forbidden"}, {Name: "immutable"},
	}}

	fieldNameType  = cabi.StringType
	fieldValueType = cabi.ListOf(cabi.U8Type)
	fieldEntryType = cabi.TupleOf(fieldNameType, fieldValueType)
	fieldListType  = cabi.ListOf(fieldEntryType)
	statusCodeType = cabi.U16Type

	// unitResult is result (no payloads) of the setters.
	unitResult = cabi.ResultOf(nil, nil)
)

// The cases of error-code, by index into errorCodeType.Cases.
const (
	ecDNSTimeout uint32 = iota
	ecDNSError
	ecDestinationNotFound
	ecDestinationUnavailable
	ecDestinationIPProhibited
	ecDestinationIPUnroutable
	ecConnectionRefused
	ecConnectionTerminated
	ecConnectionTimeout
	ecConnectionReadTimeout
	ecConnectionWriteTimeout
	ecConnectionLimitReached
	ecTLSProtocolError
	ecTLSCertificateError
	ecTLSAlertReceived
	ecHTTPRequestDenied
	ecHTTPRequestLengthRequired
	ecHTTPRequestBodySize
	ecHTTPRequestMethodInvalid
	ecHTTPRequestURIInvalid
	ecHTTPRequestURITooLong
	ecHTTPRequestHeaderSectionSize
	ecHTTPRequestHeaderSize
	ecHTTPRequestTrailerSectionSize
	ecHTTPRequestTrailerSize
	ecHTTPResponseIncomplete
	ecHTTPResponseHeaderSectionSize
	ecHTTPResponseHeaderSize
	ecHTTPResponseBodySize
	ecHTTPResponseTrailerSectionSize
	ecHTTPResponseTrailerSize
	ecHTTPResponseTransferCoding
	ecHTTPResponseContentCoding
	ecHTTPResponseTimeout
	ecHTTPUpgradeFailed
	ecHTTPProtocolError
	ecLoopDetected
	ecConfigurationError
	ecInternalError
)

// The cases of header-error.
const (
	heInvalidSyntax uint32 = iota
	heForbidden
	heImmutable
)

// The cases of method, in the WIT's order; other is the last.
var methodNames = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

const methodOther = 9

// The cases of scheme.
const (
	schemeHTTP uint32 = iota
	schemeHTTPS
	schemeOther
)

// errorCode is an error-code value, as the guest receives it.
type errorCode = cabi.Variant

// internalError is error-code internal-error(some(msg)).
func internalError(msg string) errorCode {
	return errorCode{Case: ecInternalError, Value: cabi.Option{Some: true, Value: msg}}
}

// none is option's none.
var none = cabi.Option{}

func some(v any) cabi.Option { return cabi.Option{Some: true, Value: v} }

// ok and fail are result's cases.
func ok(v any) cabi.Result   { return cabi.Result{Value: v} }
func fail(v any) cabi.Result { return cabi.Result{Err: true, Value: v} }
