package host

import (
	"os"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestMain removes the guests and the compilation cache the tests built. Run
// with fuzzChildEnv set, the test binary is FuzzServePath's child instead.
func TestMain(m *testing.M) {
	if os.Getenv(fuzzChildEnv) != "" {
		os.Exit(fuzzChild())
	}
	os.Exit(testguest.Main(m))
}
