package runtimepool

import (
	"os"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestMain removes the guests and the compilation cache the tests built.
func TestMain(m *testing.M) { os.Exit(testguest.Main(m)) }
