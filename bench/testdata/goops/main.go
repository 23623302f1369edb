//go:build wasip1

// Command goops times single Go runtime operations inside a guest, for
// BenchmarkGoGuestOps: handle_request runs the operation named by the
// environment variable OP as many times as REPS says, then answers with
// no header and no body. The operations are the ones a request through
// the SDK is made of; the benchmark runs the same code natively beside it.
package main

import (
	"os"
	"strconv"

	"github.com/wasmserve/wasmserve/bench/testdata/goops/ops"
)

//go:wasmimport http_handler set_status_code
func setStatusCode(code uint32)

var (
	op   = ops.ByName(os.Getenv("OP"))
	reps = func() int { n, _ := strconv.Atoi(os.Getenv("REPS")); return max(n, 1) }()
)

//go:wasmexport handle_request
func handleRequest() uint64 {
	for range reps {
		op()
	}
	setStatusCode(200)
	return 0
}

//go:wasmexport handle_response
func handleResponse(reqCtx, isError uint32) {}

func main() {}
