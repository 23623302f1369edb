package host

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/host/executor"
	"github.com/wasmserve/wasmserve/runtimepool"
)

// countKind is an executor of the tests, in this file alone: it runs a
// module that exports count() -> i32 (runtimepool's spin.wasm) by calling
// count for every request and answering "count N". It plugs into the
// handler through HandlerConfig.Executors only.
var countKind = executor.Kind{
	Name:  "count",
	Title: "counter (tests)",
	Detect: func(s runtimepool.Shape) (string, bool) {
		if s.Exports("count") {
			return "it exports count", true
		}
		return "", false
	},
	Inspect: func(cm wazero.CompiledModule, _ []executor.ImportChecker) *executor.Report {
		r := &executor.Report{ABI: "counter (tests)"}
		if _, ok := cm.ExportedFunctions()["count"]; !ok {
			r.Problems = append(r.Problems, `does not export "count"`)
		}
		return r
	},
	New: func(env executor.Env) (executor.Executor, error) { return countExec{}, nil },
}

type countExec struct{}

func (countExec) Pool() executor.PoolSpec { return executor.PoolSpec{} }

func (countExec) NewInstance(ctx context.Context, id string) (context.Context, executor.Instance) {
	return ctx, &countInstance{}
}

type countInstance struct{ count api.Function }

func (c *countInstance) Bind(mod api.Module) error {
	if c.count = mod.ExportedFunction("count"); c.count == nil {
		return fmt.Errorf("no count export")
	}
	return nil
}

func (c *countInstance) Handle(ctx context.Context, w http.ResponseWriter, r *http.Request) executor.Outcome {
	res, err := c.count.Call(ctx)
	if err != nil {
		return executor.Outcome{Err: err}
	}
	fmt.Fprintf(w, "count %d", int32(res[0]))
	return executor.Outcome{}
}

// TestExecutorSeam: an executor of the tests plugs in through
// HandlerConfig.Executors, is chosen by its Detect, and serves requests on
// the pooled isolates with the core's limits; ABI names it.
func TestExecutorSeam(t *testing.T) {
	h := newTestHandler(t, readFile(t, "runtimepool/testdata/spin.wasm"),
		HandlerConfig{Isolates: 1, Executors: append(DefaultExecutors(), countKind)})
	if name, _, why := h.ABI(); name != "count" || why != "it exports count" {
		t.Fatalf("ABI %q chosen because %q", name, why)
	}
	base := startPlain(t, h)
	for i := 1; i <= 3; i++ {
		if code, body, _ := fetch(t, "GET", base+"/", nil); code != 200 || body != fmt.Sprintf("count %d", i) {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
	// The same module under the default executors is nobody's: the
	// first kind's check says what it lacks.
	_, err := NewHandler(context.Background(), readFile(t, "runtimepool/testdata/spin.wasm"), HandlerConfig{Isolates: 1})
	if err == nil || !strings.Contains(err.Error(), "handle_request") {
		t.Errorf("without the executor: %v", err)
	}
}
