package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestGuestProfileFile: `serve --guest-profile FILE` writes, at shutdown, a
// profile pprof reads whose top function is the guest's hot one.
func TestGuestProfileFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "guest.pprof")
	cmd, base, stderr := startServer(t, "--isolates", "1", "--guest-profile", file,
		testguest.Path("host/testdata/hot.wasm"))
	for i := range 20 {
		if code, body := get(t, base+"/"); code != 200 {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v; stderr:\n%s", err, stderr)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("no profile: %v; stderr:\n%s", err, stderr)
	}
	defer f.Close()
	prof, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	flat := map[string]int64{}
	for _, s := range prof.Sample {
		flat[s.Location[0].Line[0].Function.Name] += s.Value[0]
	}
	if flat["hot"] == 0 {
		t.Errorf("no sample in hot: %v", flat)
	}
}
