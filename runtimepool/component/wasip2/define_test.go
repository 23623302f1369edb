package wasip2

import (
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
