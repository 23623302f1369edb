package server

import (
	"os"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/internal/devcert"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// committed is the test certificate set in certs/.
var committed = devcert.Files(testguest.Path("certs"))

// readAll reads a file the test needs.
func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testCA makes a certificate authority valid for a day.
func testCA(t *testing.T) *devcert.Authority {
	t.Helper()
	ca, err := devcert.NewAuthority("test CA", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
