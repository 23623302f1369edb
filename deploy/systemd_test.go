package deploy

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unitBinary is where the units expect the server.
const unitBinary = "/usr/local/bin/wasmserve"

// TestSystemdUnits runs `systemd-analyze verify` on the units under
// systemd/, with ExecStart pointed at the server of this checkout (verify
// checks that the command exists), and checks that ExecStart passes only
// flags the server has. Any warning verify prints fails the test: verify
// exits 0 on an unknown key.
func TestSystemdUnits(t *testing.T) {
	units, err := filepath.Glob("systemd/*.s*")
	if err != nil || len(units) != 3 {
		t.Fatalf("want 3 units under systemd/, found %v (%v)", units, err)
	}
	known := serveFlags(t)
	bin := wasmserve(t)
	dir := t.TempDir()
	var paths []string
	for _, u := range units {
		data, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(u, ".service") {
			cmdline := execStart(t, u, data)
			if !strings.HasPrefix(cmdline, unitBinary+" serve ") {
				t.Errorf("%s: ExecStart %q does not run %s serve", u, cmdline, unitBinary)
			}
			checkFlags(t, u, strings.Fields(cmdline), known)
		}
		data = bytes.ReplaceAll(data, []byte(unitBinary), []byte(bin))
		name := filepath.Base(u)
		// A template is verified through an instance of it.
		name = strings.Replace(name, "@.", "@1.", 1)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd): units not verified")
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, paths...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// execStart is the ExecStart line of a unit.
func execStart(t *testing.T, name string, unit []byte) string {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(unit))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
			return v
		}
	}
	t.Fatalf("%s has no ExecStart", name)
	return ""
}
