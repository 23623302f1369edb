package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// writeManifest writes a folder with the hello, faults and configlog modules,
// a static folder (public/, with data.txt and index.html) beside a secret,
// and the manifest text as wasmserve.toml; it returns the manifest's path.
func writeManifest(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	for name, from := range map[string]string{
		"hello.wasm":     "guest-examples/hello-wat/hello.wasm",
		"faults.wasm":    "host/testdata/faults.wasm",
		"configlog.wasm": "host/testdata/configlog.wasm",
	} {
		copyFile(t, testguest.Path(from), filepath.Join(dir, name))
	}
	os.MkdirAll(filepath.Join(dir, "public", "sub"), 0o755)
	for name, body := range map[string]string{
		"public/data.txt":   "0123456789abcdefghij",
		"public/index.html": "<p>home</p>",
		"secret.txt":        "secret",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "wasmserve.toml")
	rewriteManifest(t, path, text)
	return path
}

// rewriteManifest replaces the manifest at once (a rename), as an editor
// or a ConfigMap update does.
func rewriteManifest(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

const twoApps = `
[[app]]
name = "hello"
module = "hello.wasm"
routes = ["/hello/...", "hello.test/..."]
isolates = 2

[[app]]
name = "faults"
module = "faults.wasm"
routes = ["/ok/..."]
isolates = 2
handler-timeout = "5s"

[[static]]
name = "assets"
routes = ["/assets/..."]
dir = "public"
`

// The tests that call run in process are not parallel: urfave/cli keeps
// state of its own across apps (its help command).

func TestManifestErrors(t *testing.T) {
	app := "[[app]]\nname = \"hello\"\nmodule = \"hello.wasm\"\nroutes = [\"/hello/...\"]\n"
	cases := []struct{ name, text, want string }{
		{"misspelt key", app + "isolate = 2\n", `wasmserve.toml:5: app "hello": unknown key "isolate"; did you mean "isolates"?`},
		{"unknown key", app + "colour = \"blue\"\n", `wasmserve.toml:5: app "hello": unknown key "colour" (an app takes name, module, routes and the per-module serve flags`},
		{"server key in an app", app + "port = 80\n", `wasmserve.toml:5: app "hello": port configures the whole server, not one app: put it under [server]`},
		{"flag validation shared", app + "isolates = -1\n", `wasmserve.toml:5: app "hello": isolates must be 0 (one per CPU) or more, got -1`},
		{"flag parsing shared", app + "handler-timeout = \"5\"\n", `wasmserve.toml:5: app "hello": handler-timeout "5": not a duration`},
		{"size", app + "memory-limit = \"64\"\n", `wasmserve.toml:5: app "hello": memory-limit 64 is below one 64 KiB WebAssembly page`},
		{"repeatable flag", app + "env = [\"A\"]\n", `wasmserve.toml:5: app "hello": env: environment grant "A": want KEY=VALUE`},
		{"missing module", "[[app]]\nname = \"x\"\nmodule = \"nope.wasm\"\nroutes = [\"/x\"]\n", `wasmserve.toml:3: app "x": module `},
		{"no module", "[[app]]\nname = \"x\"\nroutes = [\"/x\"]\n", `wasmserve.toml:1: app "x" has no module`},
		{"no routes", "[[app]]\nname = \"x\"\nmodule = \"hello.wasm\"\n", `wasmserve.toml:1: app "x" has no routes`},
		{"routes not a list", "[[app]]\nname = \"x\"\nmodule = \"hello.wasm\"\nroutes = \"/x\"\n", `wasmserve.toml:4: app "x": routes is a list: routes = ["/x"]`},
		{"bad route", "[[app]]\nname = \"x\"\nmodule = \"hello.wasm\"\nroutes = [\"/x...\"]\n", `wasmserve.toml:4: app "x": route "/x...": "..." only ends a prefix`},
		{"route in two apps", app + "[[app]]\nname = \"b\"\nmodule = \"hello.wasm\"\nroutes = [\"/b\", \"/hello/...\"]\n",
			`wasmserve.toml:8: route "/hello/..." is in app "hello" (line 4) and in app "b"`},
		{"two apps of one name", app + "[[static]]\nname = \"hello\"\ndir = \"public\"\nroutes = [\"/s\"]\n", `wasmserve.toml:6: two apps are named "hello" (the other at line 2)`},
		{"missing static dir", "[[static]]\nname = \"s\"\ndir = \"nope\"\nroutes = [\"/s/...\"]\n", `wasmserve.toml:3: static "s": dir `},
		{"static key", "[[static]]\nname = \"s\"\ndir = \"public\"\nroutes = [\"/s/...\"]\nfollow-symlink = true\n", `wasmserve.toml:5: static "s": unknown key "follow-symlink"; did you mean "follow-symlinks"?`},
		{"unknown table", app + "[[apps]]\n", `wasmserve.toml:5: unknown table "apps" (a manifest has [server], [[app]] and [[static]]); did you mean "app"?`},
		{"single brackets", "[app]\nname = \"x\"\n", `wasmserve.toml:1: write [[app]], with double brackets`},
		{"key outside a table", "port = 1\n" + app, `wasmserve.toml:1: key "port" outside a table`},
		{"server key", "[server]\nprot = 1\n" + app, `wasmserve.toml:2: [server]: unknown key "prot"`},
		{"server value", "[server]\nisolates = \"many\"\n" + app, `wasmserve.toml:2: [server]: isolates = "many": not a whole number`},
		{"syntax", app + "isolates = [\n", `wasmserve.toml:5: array is incomplete`},
		{"empty", "", `no apps: add an [[app]]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeManifest(t, tc.text)
			for _, cmd := range []string{"check", "serve", "default"} {
				var stdout, stderr bytes.Buffer
				args := []string{"wasmserve", "check", path}
				switch cmd {
				case "serve":
					args = []string{"wasmserve", "serve", "--cache-dir", testguest.CacheDir(t), "--port", "0", path}
				case "default": // serve is the default for a manifest too
					args = []string{"wasmserve", path, "--port", "0"}
				}
				code := run(args, &stdout, &stderr)
				got := strings.ReplaceAll(stderr.String(), filepath.Dir(path)+string(filepath.Separator), "")
				if code == 0 || !strings.Contains(got, tc.want) {
					t.Errorf("%s: exit %d, stderr %q; want %q", cmd, code, got, tc.want)
				}
			}
		})
	}
}

func TestCheckManifest(t *testing.T) {
	path := writeManifest(t, twoApps)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"wasmserve", "check", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("check: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"app:             hello (module ", "abi http-wasm", "static:          assets", "result:          ok (3 apps, 4 routes)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, stdout.String())
		}
	}
	// A module that does not fit its ABI: exit 1, naming the app.
	copyFile(t, "testdata/nohandler.wasm", filepath.Join(filepath.Dir(path), "faults.wasm"))
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"wasmserve", "check", path}, &stdout, &stderr); code != 1 || !strings.Contains(stdout.String()+stderr.String(), "faults") {
		t.Fatalf("check of a broken module: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// request sends a GET with an optional Host and Range, unchanged (no path
// cleaning on the way).
func request(t *testing.T, base, path, host, rng string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = path
	if host != "" {
		req.Host = host
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestServeManifest: two apps and a static folder routed by path and by
// host, from outside, with per-app metrics, access log and /debug/apps.
func TestServeManifest(t *testing.T) {
	t.Parallel()
	// port = 1 loses to startServer's --port 0: the command line wins.
	path := writeManifest(t, "[server]\nport = 1\nadmin = \"127.0.0.1:0\"\ncompress = true\ncompress-min-size = \"1B\"\n"+twoApps)
	_, base, stderr := startServer(t, "--log-format", "json", path)
	// --compress (from [server]) compresses a static file, never a range.
	for _, rng := range []string{"", "bytes=0-3"} {
		req, _ := http.NewRequest("GET", base+"/assets/data.txt", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if enc := resp.Header.Get("Content-Encoding"); (enc == "gzip") != (rng == "") {
			t.Errorf("static with Range %q: Content-Encoding %q", rng, enc)
		}
	}
	cases := []struct {
		name, path, host, rng string
		code                  int
		body                  string
	}{
		{"app by path", "/hello/x?y=1", "", "", 200, "Hello from wasmserve: /hello/x?y=1\n"},
		{"app by host", "/any/where", "hello.test:8080", "", 200, "Hello from wasmserve: /any/where\n"},
		{"host route before a path route", "/ok/1", "hello.test", "", 200, "Hello from wasmserve: /ok/1\n"},
		{"second app", "/ok/abc", "", "", 200, "ok:/ok/abc"},
		{"static", "/assets/data.txt", "", "", 200, "0123456789abcdefghij"},
		{"static index", "/assets/", "", "", 200, "<p>home</p>"},
		{"range", "/assets/data.txt", "", "bytes=10-14", 206, "abcde"},
		{"traversal", "/assets/../secret.txt", "", "", 404, ""},
		{"encoded traversal", "/assets/%2e%2e/secret.txt", "", "", 404, ""},
		{"encoded slash traversal", "/assets/..%2fsecret.txt", "", "", 404, ""},
		{"unrouted", "/nothing", "", "", 404, ""},
	}
	for _, tc := range cases {
		code, hdr, body := request(t, base, tc.path, tc.host, tc.rng)
		if code != tc.code || (tc.body != "" && body != tc.body) || strings.Contains(body, "secret") {
			t.Errorf("%s: GET %s = %d %q, want %d %q", tc.name, tc.path, code, body, tc.code, tc.body)
		}
		if tc.code == 206 && hdr.Get("Content-Range") != "bytes 10-14/20" {
			t.Errorf("range: Content-Range %q", hdr.Get("Content-Range"))
		}
	}
	admin := adminURL(t, stderr)
	_, metrics := get(t, admin+"/metrics")
	for _, want := range []string{
		`wasmserve_http_requests_total{app="hello",code="200",method="GET",proto="HTTP/1.1"} 3`,
		`wasmserve_http_requests_total{app="faults",code="200",method="GET",proto="HTTP/1.1"} 1`,
		`wasmserve_http_requests_total{app="assets",code="206",method="GET",proto="HTTP/1.1"} 2`,
		`wasmserve_http_requests_total{app="",code="404",method="GET",proto="HTTP/1.1"} 4`,
		`wasmserve_isolates_configured{app="hello"} 2`,
		`wasmserve_isolates_configured{app="faults"} 2`,
		`wasmserve_module_generation{app="faults"} 1`,
		`wasmserve_guest_call_duration_seconds_count{app="faults"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if code, body := get(t, admin+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %q", code, body)
	}
	var rep struct {
		Apps []struct {
			Name       string
			Routes     []string
			Generation uint64
			Pool       *struct{ Size int }
		}
	}
	_, body := get(t, admin+"/debug/apps")
	if err := json.Unmarshal([]byte(body), &rep); err != nil || len(rep.Apps) != 3 {
		t.Fatalf("/debug/apps: %v\n%s", err, body)
	}
	if a := rep.Apps[2]; a.Name != "hello" || a.Generation != 1 || a.Pool == nil || a.Pool.Size != 2 || strings.Join(a.Routes, " ") != "/hello/... hello.test/..." {
		t.Errorf("/debug/apps hello: %+v", a)
	}
	testguest.WaitFor(t, "an access-log line with the app", func() bool {
		for _, l := range logLines(stderr.String()) {
			if l["msg"] == "request" && l["app"] == "faults" && l["path"] == "/ok/abc" {
				return true
			}
		}
		return false
	})
}

// TestManifestReloadUnderLoad: a changed manifest applied by SIGHUP while
// clients load two apps: the unchanged app keeps its handler, the changed
// one answers its new configuration, no request fails; then a broken
// manifest leaves the running config serving, and the log says why.
func TestManifestReloadUnderLoad(t *testing.T) {
	const tmpl = `
[server]
admin = "127.0.0.1:0"

[[app]]
name = "steady"
module = "faults.wasm"
routes = ["/ok/..."]
isolates = 2

[[app]]
name = "moving"
module = "configlog.wasm"
routes = ["/moving/..."]
isolates = 2
guest-config-string = "%s"
`
	path := writeManifest(t, fmt.Sprintf(tmpl, "one")+"[[app]]\nname = \"gone\"\nmodule = \"hello.wasm\"\nroutes = [\"/gone\"]\n")
	cmd, base, stderr := startServer(t, path)
	admin := adminURL(t, stderr)
	since := func(name string) string {
		_, body := get(t, admin+"/debug/apps")
		var rep struct {
			Apps []struct{ Name, Since string }
		}
		json.Unmarshal([]byte(body), &rep)
		for _, a := range rep.Apps {
			if a.Name == name {
				return a.Since
			}
		}
		return ""
	}
	steadySince := since("steady")
	var two atomic.Int64
	stop := make(chan struct{})
	results := make(chan []outcome, 1)
	go func() {
		results <- load(base, 4, 1<<30, func(w, i int) string {
			if w%2 == 0 {
				return fmt.Sprintf("/ok/%d/%d", w, i)
			}
			return fmt.Sprintf("/moving/%d/%d", w, i)
		}, stop, func() {})
	}()
	time.Sleep(100 * time.Millisecond) // let load build up; not an assertion
	rewriteManifest(t, path, fmt.Sprintf(tmpl, "two"))
	cmd.Process.Signal(syscall.SIGHUP)
	testguest.WaitFor(t, "the manifest applied", func() bool { return strings.Contains(stderr.String(), "manifest applied") })
	testguest.WaitFor(t, "the new configuration answering", func() bool {
		_, body := get(t, base+"/moving/probe")
		if body == "two" {
			two.Add(1)
		}
		return two.Load() > 0
	})
	time.Sleep(100 * time.Millisecond) // some load on the new configuration
	close(stop)
	all := <-results
	var newSeen int
	for _, o := range all {
		switch {
		case o.err == nil && o.code == 200 && o.body == "ok:"+o.path:
		case o.err == nil && o.code == 200 && o.body == "one":
		case o.err == nil && o.code == 200 && o.body == "two":
			newSeen++
		default:
			t.Errorf("%s during the reload: %d %q %v", o.path, o.code, o.body, o.err)
		}
	}
	if newSeen == 0 {
		t.Errorf("no response of the new configuration under load (%d requests)", len(all))
	}
	t.Logf("%d requests across the reload", len(all))
	if got := since("steady"); got != steadySince || got == "" {
		t.Errorf("the unchanged app was restarted: since %q, was %q", got, steadySince)
	}
	if code, _ := get(t, base+"/gone"); code != 404 {
		t.Errorf("a removed app still answers: %d", code)
	}
	if !strings.Contains(stderr.String(), `removed=[gone]`) || !strings.Contains(stderr.String(), `replaced=[moving]`) {
		t.Errorf("the applied changes are not logged:\n%s", stderr)
	}

	// A broken manifest: logged, and the running config keeps serving.
	rewriteManifest(t, path, fmt.Sprintf(tmpl, "three")+"isolate = 3\n")
	cmd.Process.Signal(syscall.SIGHUP)
	testguest.WaitFor(t, "the failed reload in the log", func() bool {
		return strings.Contains(stderr.String(), `unknown key \"isolate\"; did you mean \"isolates\"?`)
	})
	testguest.WaitFor(t, "the log to say the running apps keep serving", func() bool {
		return strings.Contains(stderr.String(), "the running apps keep serving")
	})
	if _, body := get(t, base+"/moving/x"); body != "two" {
		t.Errorf("after a broken manifest: %q, want the old config's answer", body)
	}
	if _, body := get(t, base+"/ok/x"); body != "ok:/ok/x" {
		t.Errorf("after a broken manifest: %q", body)
	}
}

// TestTestManifest: wasmserve test runs cases against a manifest's apps in
// process, a case naming the host it is sent to.
func TestTestManifest(t *testing.T) {
	path := writeManifest(t, "[server]\nport = 1\n"+twoApps)
	cases := filepath.Join(filepath.Dir(path), "cases.yaml")
	os.WriteFile(cases, []byte(`cases:
  - name: by path
    request: {path: /ok/1}
    expect: {status: 200, body: "ok:/ok/1"}
  - name: by host
    request: {path: /ok/1, host: hello.test}
    expect: {status: 200, body: "Hello from wasmserve: /ok/1\n"}
  - name: static range
    request: {path: /assets/data.txt, headers: {range: bytes=0-2}}
    expect: {status: 206, body: "012"}
  - name: unrouted
    request: {path: /none}
    expect: {status: 404}
`), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"wasmserve", "test", "--cache-dir", testguest.CacheDir(t), path, cases}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "4 passed, 0 failed") {
		t.Errorf("output:\n%s", stdout.String())
	}
}

// TestServeManifestLazy: with --lazy the apps start on their first
// request; --lazy without a manifest is refused.
func TestServeManifestLazy(t *testing.T) {
	path := writeManifest(t, "[server]\nadmin = \"127.0.0.1:0\"\nlazy = true\n"+twoApps)
	_, base, stderr := startServer(t, path)
	admin := adminURL(t, stderr)
	warm := func(name string) bool {
		_, body := get(t, admin+"/debug/apps")
		var rep struct {
			Apps []struct {
				Name string
				Warm bool
			}
		}
		json.Unmarshal([]byte(body), &rep)
		for _, a := range rep.Apps {
			if a.Name == name {
				return a.Warm
			}
		}
		t.Fatalf("no app %s in /debug/apps: %s", name, body)
		return false
	}
	if warm("hello") || warm("faults") {
		t.Fatal("lazy apps started before a request")
	}
	if code, body := get(t, base+"/hello/1"); code != 200 || body != "Hello from wasmserve: /hello/1\n" {
		t.Fatalf("first request: %d %q", code, body)
	}
	if !warm("hello") || warm("faults") {
		t.Error("after a request to hello: want hello warm and faults cold")
	}
	if !strings.Contains(stderr.String(), "started=\"on its first request\"") {
		t.Errorf("the banner does not say the apps start on their first request:\n%s", stderr)
	}
	var stdout, errb bytes.Buffer
	if code := run([]string{"wasmserve", "serve", "--lazy", testguest.Path("guest-examples/hello-wat/hello.wasm")}, &stdout, &errb); code == 0 ||
		!strings.Contains(errb.String(), "--lazy needs a manifest") {
		t.Errorf("--lazy with a module: exit %d %q", code, errb.String())
	}
}

// TestManifestWatch: with --watch a changed manifest is applied without a
// signal, and a module changed under an app reloads that app alone.
func TestManifestWatch(t *testing.T) {
	t.Parallel()
	path := writeManifest(t, twoApps)
	_, base, stderr := startServer(t, "--watch", path)
	rewriteManifest(t, path, strings.Replace(twoApps, `"hello.test/..."]`, `"hello.test/...", "/also"]`, 1))
	testguest.WaitFor(t, "the new route", func() bool { code, _ := get(t, base+"/also"); return code == 200 })
	tmp := filepath.Join(filepath.Dir(path), "new.wasm")
	copyFile(t, testguest.Path("host/testdata/configlog.wasm"), tmp)
	if err := os.Rename(tmp, filepath.Join(filepath.Dir(path), "hello.wasm")); err != nil {
		t.Fatal(err)
	}
	testguest.WaitFor(t, "the reloaded module", func() bool { _, body := get(t, base+"/hello/x"); return body == "" })
	// The line is logged once the new module serves: wait for it too.
	testguest.WaitFor(t, "the log to say hello alone was reloaded", func() bool {
		return strings.Contains(stderr.String(), "reloaded=[hello]")
	})
}

// TestManifestCommandLineDefaults: the flags on the command line,
// repeatable ones included, are every app's defaults, under the app's own
// keys: an app's bad env is named, the command line's is read with it.
func TestManifestCommandLineDefaults(t *testing.T) {
	path := writeManifest(t, "[[app]]\nname = \"hello\"\nmodule = \"hello.wasm\"\nroutes = [\"/hello/...\"]\nenv = [\"B\"]\n")
	var stdout, stderr bytes.Buffer
	code := run([]string{"wasmserve", "serve", "--env", "A=1", "--allow-outbound", "https://x.example", "--isolates", "3", path}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), `app "hello": env: environment grant "B": want KEY=VALUE`) {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	ctx := cliContext(t, []string{"--env", "A=1", "--isolates", "3", "--handler-timeout", "2s"})
	rewriteManifest(t, path, "[[app]]\nname = \"hello\"\nmodule = \"hello.wasm\"\nroutes = [\"/hello/...\"]\nenv = [\"B=2\"]\nisolates = 1\n")
	m, err := readManifest(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	hc := m.apps[0].mc.hc
	if strings.Join(hc.Env, ",") != "A=1,B=2" || hc.Isolates != 1 || hc.HandlerTimeout != 2*time.Second {
		t.Errorf("app config: env %v isolates %d handler timeout %s; want A=1,B=2, the app's 1, the command line's 2s", hc.Env, hc.Isolates, hc.HandlerTimeout)
	}
}

// cliContext is the context of serve's flags parsed from args.
func cliContext(t *testing.T, args []string) *cli.Context {
	t.Helper()
	var got *cli.Context
	app := &cli.App{Name: "wasmserve", Writer: io.Discard, ErrWriter: io.Discard, ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{{Name: "serve", Flags: serveFlags(), Action: func(c *cli.Context) error { got = c; return nil }}}}
	if err := app.Run(append([]string{"wasmserve", "serve"}, args...)); err != nil {
		t.Fatal(err)
	}
	return got
}
