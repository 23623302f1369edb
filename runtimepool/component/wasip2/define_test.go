package wasip2

import (
	"os"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/runtimepool/component"
)

func TestDefine(t *testing.T) {
	t.Parallel()
	var h component.Host
	if err := Define(&h, Config{}); err != nil {
		t.Fatal(err)
	}
	if err := Define(&h, Config{}); err == nil {
		t.Fatal("defining twice into one host succeeded")
	}
}

func TestInspectJSHello(t *testing.T) {
	t.Parallel()
	bin, err := os.ReadFile("/tmp/jshello/hello.wasm")
	if err != nil {
		t.Skip("no componentize-js hello component here:", err)
	}
	var h component.Host
	if err := Define(&h, Config{}); err != nil {
		t.Fatal(err)
	}
	info, err := component.Inspect(bin, &h)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range info.Missing {
		if !strings.HasPrefix(m, "wasi:http/") {
			t.Errorf("missing %s", m)
		}
	}
}
