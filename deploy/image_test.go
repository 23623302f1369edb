package deploy

import (
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// The image test needs a container engine. WASMSERVE_IMAGE_TEST=require
// (what `make image-test` sets) makes a missing engine a failure instead of
// a skip; WASMSERVE_IMAGE_TEST=off skips it.

// containersConf is what rootful podman needs on machines without systemd
// as init and with a kernel that refuses podman's default ulimits.
const containersConf = `[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
`

// engine is a container engine command line.
type engine struct {
	bin string
	env []string
}

// findEngine returns podman or docker, whichever works, or skips.
func findEngine(t *testing.T) engine {
	t.Helper()
	mode := os.Getenv("WASMSERVE_IMAGE_TEST")
	skip := func(msg string) {
		t.Helper()
		if mode == "require" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (make image-test fails instead of skipping)")
	}
	if mode == "off" {
		t.Skip("WASMSERVE_IMAGE_TEST=off")
	}
	if p, err := exec.LookPath("podman"); err == nil {
		e := engine{bin: p, env: os.Environ()}
		if os.Getenv("CONTAINERS_CONF") == "" {
			conf := containersConf
			if _, err := exec.LookPath("runc"); err == nil {
				conf += "runtime = \"runc\"\n"
			}
			path := filepath.Join(tmpRoot, "containers.conf")
			if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			e.env = append(e.env, "CONTAINERS_CONF="+path)
		}
		if out, err := e.cmd(context.Background(), "info").CombinedOutput(); err == nil {
			return e
		} else {
			t.Logf("podman info: %v\n%s", err, out)
		}
	}
	if p, err := exec.LookPath("docker"); err == nil {
		e := engine{bin: p, env: os.Environ()}
		if out, err := e.cmd(context.Background(), "info").CombinedOutput(); err == nil {
			return e
		} else {
			t.Logf("docker info: %v\n%s", err, out)
		}
	}
	skip("no working container engine: install podman and runc (apt-get install -y podman runc) or start docker")
	return engine{}
}

func (e engine) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, e.bin, args...)
	c.Env = e.env
	return c
}

// run runs the engine with args and returns its trimmed standard output.
func (e engine) run(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := e.cmd(ctx, args...)
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(e.bin), strings.Join(args, " "), err, out, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// TestImage builds the image with `make image` from this checkout and runs
// it twice: as the README's derived image, and as the base Deployment runs
// it (its args, read-only root, no capabilities, uid 65532, its memory
// limit, the module mounted as the ConfigMap is). Each time a guest must
// answer on the published port, and SIGTERM must end the server with exit
// code 0 after its "stopped" line. The admin endpoints are probed only when
// the binary has --admin.
func TestImage(t *testing.T) {
	e := findEngine(t)
	tag := fmt.Sprintf("localhost/wasmserve-test:%d", os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	mk := exec.CommandContext(ctx, "make", "-C", "..", "image", "IMAGE="+tag, "CONTAINER_ENGINE="+e.bin)
	mk.Env = e.env
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	t.Cleanup(func() { e.cmd(context.Background(), "rmi", "-f", tag).Run() })

	t.Run("static binary", func(t *testing.T) {
		f, err := elf.Open("../bin/image/rootfs/wasmserve")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Fatal("bin/image/rootfs/wasmserve has a dynamic loader: it cannot run FROM scratch (build with CGO_ENABLED=0)")
			}
		}
	})
	t.Run("config", func(t *testing.T) { checkImageConfig(t, e, tag) })

	known := serveFlags(t)
	t.Run("derived image", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, "../guest-examples/hello-wat/hello.wasm", filepath.Join(dir, "handler.wasm"))
		// The three lines README "Running in production" gives.
		df := "FROM " + tag + "\nCOPY handler.wasm /handler.wasm\nCMD [\"/handler.wasm\"]\n"
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
			t.Fatal(err)
		}
		derived := tag + "-derived"
		e.run(t, "build", "-t", derived, dir)
		t.Cleanup(func() { e.cmd(context.Background(), "rmi", "-f", derived).Run() })
		serveAndStop(t, e, []string{"-p", "127.0.0.1::8080", derived}, false)
	})
	t.Run("as the Deployment runs it", func(t *testing.T) {
		d, cm := baseDeployment(t)
		c := d.Spec.Template.Spec.Containers[0]
		dir := t.TempDir()
		for key, data := range cm.BinaryData {
			if err := os.WriteFile(filepath.Join(dir, key), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// The emptyDir on /tmp: a world-writable directory of the host, as
		// the kubelet makes it (a --tmpfs would take the image's /tmp mode).
		tmp := t.TempDir()
		if err := os.Chmod(tmp, 0o1777); err != nil {
			t.Fatal(err)
		}
		mem := c.Resources.Limits[corev1.ResourceMemory]
		run := []string{
			"--read-only", "-v", tmp + ":/tmp", "--cap-drop", "ALL",
			"--security-opt", "no-new-privileges", "--user",
			fmt.Sprintf("%d:%d", *c.SecurityContext.RunAsUser, *c.SecurityContext.RunAsGroup),
			"--memory", fmt.Sprint(mem.Value()),
			"-v", dir + ":/module:ro", "-p", "127.0.0.1::8080",
		}
		args := c.Args
		admin := known["admin"]
		if admin {
			run = append(run, "-p", "127.0.0.1::9090")
		} else {
			t.Log("this binary has no --admin yet: running without it, /healthz and /readyz not probed")
			args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return strings.HasPrefix(a, "--admin=") })
		}
		serveAndStop(t, e, append(append(run, tag), args...), admin)
	})
}

// checkImageConfig: the user, entrypoint, ports, environment and OCI labels
// the image promises (README, "The container image").
func checkImageConfig(t *testing.T, e engine, tag string) {
	var inspect []struct {
		Config struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			Env          []string
			ExposedPorts map[string]struct{}
			Labels       map[string]string
		}
	}
	if err := json.Unmarshal([]byte(e.run(t, "image", "inspect", tag)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("image inspect: %v", err)
	}
	cfg := inspect[0].Config
	if cfg.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", cfg.User)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/wasmserve", "serve"}) {
		t.Errorf("entrypoint %q", cfg.Entrypoint)
	}
	for _, p := range []string{"8080/tcp", "9090/tcp"} {
		if _, ok := cfg.ExposedPorts[p]; !ok {
			t.Errorf("port %s not exposed: %v", p, cfg.ExposedPorts)
		}
	}
	for _, kv := range []string{"WASMSERVE_ADDRESS=any", "WASMSERVE_CACHE_DIR=/tmp/wasmserve"} {
		if !slices.Contains(cfg.Env, kv) {
			t.Errorf("env has no %s: %v", kv, cfg.Env)
		}
	}
	for _, l := range []string{"title", "description", "source", "version", "revision"} {
		if cfg.Labels["org.opencontainers.image."+l] == "" {
			t.Errorf("label org.opencontainers.image.%s is missing: %v", l, cfg.Labels)
		}
	}
}

// baseDeployment is the rendered base Deployment and its module ConfigMap.
func baseDeployment(t *testing.T) (*appsv1.Deployment, *corev1.ConfigMap) {
	t.Helper()
	objs, err := render("kubernetes/base")
	if err != nil {
		t.Fatal(err)
	}
	var d *appsv1.Deployment
	var cm *corev1.ConfigMap
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			d = o
		case *corev1.ConfigMap:
			cm = o
		}
	}
	if d == nil || cm == nil {
		t.Fatal("the base renders no Deployment or ConfigMap")
	}
	return d, cm
}

// serveAndStop starts a container with run's arguments, waits until the
// guest answers on the published port 8080, probes the admin port 9090 when
// admin, then sends SIGTERM and expects exit code 0 and a clean stop.
func serveAndStop(t *testing.T, e engine, run []string, admin bool) {
	t.Helper()
	id := e.run(t, append([]string{"run", "-d"}, run...)...)
	t.Cleanup(func() { e.cmd(context.Background(), "rm", "-f", id).Run() })
	logs := func() string {
		out, _ := e.cmd(context.Background(), "logs", id).CombinedOutput()
		return string(out)
	}
	base := "http://" + published(t, e, id, "8080/tcp", logs)
	body, err := getWhenUp(base + "/from-a-container")
	if err != nil {
		t.Fatalf("guest: %v\nlogs:\n%s", err, logs())
	}
	if want := "Hello from wasmserve: /from-a-container\n"; body != want {
		t.Errorf("guest answered %q, want %q", body, want)
	}
	if admin {
		adm := "http://" + published(t, e, id, "9090/tcp", logs)
		for _, p := range []string{"/healthz", "/readyz"} {
			if _, err := getWhenUp(adm + p); err != nil {
				t.Errorf("admin %s: %v", p, err)
			}
		}
	}
	e.run(t, "kill", "--signal", "TERM", id)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := e.cmd(ctx, "wait", id).Output()
	code := strings.TrimSpace(string(out))
	if err != nil || code != "0" {
		t.Fatalf("after SIGTERM: exit code %q (%v), want 0\nlogs:\n%s", code, err, logs())
	}
	if l := logs(); !strings.Contains(l, "stopped") {
		t.Errorf("no \"stopped\" line after SIGTERM; logs:\n%s", l)
	}
}

// published is the host address the engine published a container port on.
// An exited container publishes nothing: then its logs say why.
func published(t *testing.T, e engine, id, port string, logs func() string) string {
	t.Helper()
	out, _ := e.cmd(context.Background(), "port", id, port).Output()
	addr, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if addr == "" {
		t.Fatalf("port %s is not published (has the server exited?); logs:\n%s", port, logs())
	}
	return strings.Replace(addr, "0.0.0.0:", "127.0.0.1:", 1)
}

// getWhenUp GETs url until it answers 200, for at most 20 seconds, and
// returns the body.
func getWhenUp(url string) (string, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && rerr == nil {
				return string(b), nil
			}
			err = fmt.Errorf("%s: %s %s", url, resp.Status, b)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return "", fmt.Errorf("not up after 20s: %v", last)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
