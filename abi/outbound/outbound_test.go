package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
)

func TestCodeOf(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want Code
	}{
		{"refused", fmt.Errorf("GET x: %w: no pattern", ErrRefused), CodeRefused},
		{"refused in a dial error", &net.OpError{Op: "dial", Err: fmt.Errorf("%w: blocked", ErrRefused)}, CodeRefused},
		{"too big", fmt.Errorf("x: %w", ErrTooBig), CodeTooBig},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), CodeTimeout},
		{"socket deadline", os.ErrDeadlineExceeded, CodeTimeout},
		{"canceled", context.Canceled, CodeCanceled},
		{"refused connection", errors.New("connect: connection refused"), CodeNetwork},
		{"dns", &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, CodeNetwork},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := CodeOf(c.err); got != c.want {
				t.Errorf("CodeOf(%v) = %s, want %s", c.err, got, c.want)
			}
		})
	}
}

func TestEncodings(t *testing.T) {
	if v := EncodeEOFLen(true, 7); v != 1<<32|7 {
		t.Errorf("EncodeEOFLen(true, 7) = %#x", v)
	}
	if v := EncodeCountLen(3, 40); v != 3<<32|40 {
		t.Errorf("EncodeCountLen(3, 40) = %#x", v)
	}
	// A code as an i32 result, and sign-extended as an i64 one.
	if r := CodeRefused.result(); int32(uint32(r)) != -1 {
		t.Errorf("CodeRefused.result() = %#x", r)
	}
	if r := failWide(CodeTooBig.result()); int64(r) != -7 {
		t.Errorf("failWide(CodeTooBig) = %d", int64(r))
	}
}
