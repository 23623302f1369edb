package kv

import (
	"os"
	"os/exec"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testredis"
)

// runMain starts the package's shared redis-server, when installed, runs
// the tests and stops it.
func runMain(m *testing.M) {
	var stop func()
	if _, err := exec.LookPath("redis-server"); err == nil {
		var err error
		redisSrv, stop, err = testredis.StartMain()
		if err != nil {
			println("starting redis-server:", err.Error())
			os.Exit(1)
		}
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}
