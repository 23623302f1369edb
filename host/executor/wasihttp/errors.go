package wasihttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

// codeError is a stream error that carries its error-code, for
// http-error-code.
type codeError struct {
	code errorCode
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// errorCodeOf maps an error of an outgoing request or of a body to the
// error-code the guest receives.
func errorCodeOf(err error) errorCode {
	var ce *codeError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var alert tls.AlertError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, outbound.ErrRefused):
		return errorCode{Case: ecHTTPRequestDenied}
	case errors.Is(err, outbound.ErrTooBig):
		return errorCode{Case: ecHTTPResponseBodySize, Value: none}
	case errors.Is(err, errHeadTimeout):
		return errorCode{Case: ecHTTPResponseTimeout}
	case errors.As(err, &dnsErr):
		if dnsErr.IsTimeout {
			return errorCode{Case: ecDNSTimeout}
		}
		rcode := none
		if dnsErr.IsNotFound {
			rcode = some("NXDOMAIN")
		}
		return errorCode{Case: ecDNSError, Value: []any{rcode, none}}
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidCert):
		return errorCode{Case: ecTLSCertificateError}
	case errors.As(err, &alert):
		return errorCode{Case: ecTLSAlertReceived, Value: []any{some(uint8(alert)), some(alert.Error())}}
	case errors.As(err, &recordErr):
		return errorCode{Case: ecTLSProtocolError}
	case errors.Is(err, syscall.ECONNREFUSED):
		return errorCode{Case: ecConnectionRefused}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return errorCode{Case: ecConnectionTerminated}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return errorCode{Case: ecDestinationIPUnroutable}
	case errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Timeout():
		return errorCode{Case: ecConnectionTimeout}
	case errors.Is(err, context.DeadlineExceeded):
		return errorCode{Case: ecHTTPResponseTimeout}
	}
	return internalError(err.Error())
}

// httpErrorCode is http-error-code: the error-code behind a stream error
// of a body, if it has one.
func httpErrorCode() *component.HostFunc {
	return &component.HostFunc{
		Params:  []component.Param{{Name: "err", Type: borrow(wasip2.ErrorType)}},
		Results: []*cabi.Type{cabi.OptionOf(errorCodeType)},
		Call: func(_ context.Context, args []any) ([]any, error) {
			err, _ := args[0].(error)
			var ce *codeError
			if errors.As(err, &ce) {
				return []any{some(ce.code)}, nil
			}
			return []any{none}, nil
		},
	}
}
