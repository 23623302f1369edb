package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// tmpRoot holds what the tests build; TestMain removes it.
var tmpRoot string

func TestMain(m *testing.M) {
	var err error
	tmpRoot, err = os.MkdirTemp("", "wasmserve-deploy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// wasmserve builds the server of this checkout (the parent module) once
// per test binary and returns its path.
func wasmserve(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath = filepath.Join(tmpRoot, "wasmserve")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/wasmserve")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/wasmserve: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// helpFlag finds the flag names in `wasmserve serve --help`.
var helpFlag = regexp.MustCompile(`(?m)--([a-z0-9-]+)`)

// argFlag is the flag name of one argument.
var argFlag = regexp.MustCompile(`^--([a-z0-9-]+)`)

// serveFlags are the flag names `wasmserve serve` accepts.
func serveFlags(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command(wasmserve(t), "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("wasmserve serve --help: %v\n%s", err, out)
	}
	flags := map[string]bool{}
	for _, m := range helpFlag.FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if !flags["port"] || !flags["grace"] {
		t.Fatalf("wasmserve serve --help lists no --port or --grace:\n%s", out)
	}
	return flags
}

// pending are flags the manifests use before the binary has them, with the
// work that adds them; checkFlags logs instead of failing on them.
var pending = map[string]string{"admin": `the admin listener of the "Operate it" issue`}

// checkFlags reports every flag of args that `wasmserve serve` does not
// know.
func checkFlags(t *testing.T, where string, args []string, known map[string]bool) {
	t.Helper()
	for _, a := range args {
		m := argFlag.FindStringSubmatch(a)
		if m == nil || known[m[1]] {
			continue
		}
		if why, ok := pending[m[1]]; ok {
			t.Logf("%s: --%s is not in this binary yet (%s); not checked", where, m[1], why)
			continue
		}
		t.Errorf("%s: wasmserve serve has no flag --%s", where, m[1])
	}
}

// TestManifestFlagsExist: every flag the Deployments pass is one the
// server of this checkout accepts.
func TestManifestFlagsExist(t *testing.T) {
	known := serveFlags(t)
	for _, k := range kustomizations {
		objs, err := render(k.dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if d, ok := o.(*appsv1.Deployment); ok {
				c, _, errs := server(d)
				if c == nil {
					t.Fatalf("%s: %v", k.dir, errs)
				}
				checkFlags(t, k.dir+" Deployment "+d.Name, c.Args, known)
			}
		}
	}
}
