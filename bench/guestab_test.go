package bench

import (
	"net/http"
	"os"
	"strconv"
	"testing"
)

// BenchmarkGuestAB serves the hello through two builds of a guest,
// alternately (pairLoop), with serve's default limits and a new
// X-Request-Id on every request as the server front gives it: a
// before/after of a guest-side change (the Go SDK) in the same run, on the
// same machine load. It reports each build's CPU per request and B/A:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o /tmp/a.wasm ./guest-examples/hello  # before
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o /tmp/b.wasm ./guest-examples/hello  # after
//	WASMSERVE_GUEST_A=/tmp/a.wasm WASMSERVE_GUEST_B=/tmp/b.wasm go test -run '^$' -bench GuestAB -benchtime 100000x -count 3 ./bench/
//
// Both builds must answer what the hello answers.
func BenchmarkGuestAB(b *testing.B) {
	pa, pb := os.Getenv("WASMSERVE_GUEST_A"), os.Getenv("WASMSERVE_GUEST_B")
	if pa == "" || pb == "" {
		b.Skip("set WASMSERVE_GUEST_A and WASMSERVE_GUEST_B to two builds of a hello guest")
	}
	wa, err := os.ReadFile(pa)
	if err != nil {
		b.Fatal(err)
	}
	wb, err := os.ReadFile(pb)
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	withID := func() *http.Request {
		i++
		r := hello()
		r.Header.Set("X-Request-Id", strconv.FormatUint(uint64(0x1000000000000000+i), 16))
		return r
	}
	pairLoop(b, newHandler(b, wa, defaults), newHandler(b, wb, defaults), withID, "A", "B")
}
