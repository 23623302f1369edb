package wasmprep

import (
	"os"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestMain removes the guests the tests built.
func TestMain(m *testing.M) { os.Exit(testguest.Main(m)) }
