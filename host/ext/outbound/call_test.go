package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/tetratelabs/wazero/api"

	contract "github.com/wasmserve/wasmserve/abi/outbound"
	"github.com/wasmserve/wasmserve/internal/hostmodule"
)

func TestCodeOf(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want contract.Code
	}{
		{"refused", fmt.Errorf("GET x: %w: no pattern", ErrRefused), contract.CodeRefused},
		{"refused in a dial error", &net.OpError{Op: "dial", Err: fmt.Errorf("%w: blocked", ErrRefused)}, contract.CodeRefused},
		{"too big", fmt.Errorf("x: %w", ErrTooBig), contract.CodeTooBig},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), contract.CodeTimeout},
		{"socket deadline", os.ErrDeadlineExceeded, contract.CodeTimeout},
		{"canceled", context.Canceled, contract.CodeCanceled},
		{"refused connection", errors.New("connect: connection refused"), contract.CodeNetwork},
		{"dns", &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, contract.CodeNetwork},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := CodeOf(c.err); got != c.want {
				t.Errorf("CodeOf(%v) = %s, want %s", c.err, got, c.want)
			}
		})
	}
}

// TestCodeResults: a code as an i32 result, and sign-extended as an i64
// one.
func TestCodeResults(t *testing.T) {
	if r := i32Result(contract.CodeRefused); int32(uint32(r)) != -1 {
		t.Errorf("i32Result(CodeRefused) = %#x", r)
	}
	if r := failWide(i32Result(contract.CodeTooBig)); int64(r) != -7 {
		t.Errorf("failWide(CodeTooBig) = %d", int64(r))
	}
}

// TestFunctionsMatchTable: the host implements every function of the
// contract's table and nothing else, and defines each with the table's
// signature, which CheckImport accepts.
func TestFunctionsMatchTable(t *testing.T) {
	if err := hostmodule.Verify(context.Background(), contract.ModuleName, contract.Functions, (&Host{}).Install); err != nil {
		t.Error(err)
	}
	for _, f := range contract.Functions {
		params, results := f.Codes()
		if err := CheckImport(f.Name, params, results); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
	if err := CheckImport(contract.FuncRequest, []api.ValueType{api.ValueTypeI32}, nil); err == nil ||
		err.Error() != "wrong signature: want (i32, i32, i32, i32, i32) -> i32" {
		t.Errorf("CheckImport of a wrong signature: %v", err)
	}
}
