package main

import (
	"bufio"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// runBinary runs the wasmserve binary and returns its exit code, stdout
// and stderr.
func runBinary(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runIn(t, testguest.Root(), nil, args...)
}

// example is one row of conformance/examples.tsv.
type example struct {
	name, module, cases, upstream string
	flags                         []string
}

func readExamples(t *testing.T) []example {
	t.Helper()
	f, err := os.Open(testguest.Path("conformance/examples.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []example
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 4 {
			t.Fatalf("examples.tsv: %q has %d columns, want 4 or 5", line, len(cols))
		}
		e := example{name: cols[0], module: cols[1], cases: cols[2], upstream: cols[3]}
		if len(cols) > 4 {
			e.flags = strings.Fields(cols[4])
		}
		out = append(out, e)
	}
	if len(out) < 5 {
		t.Fatalf("examples.tsv lists %d examples", len(out))
	}
	return out
}

// TestExamples is `make conformance` inside `go test`: every example of
// conformance/examples.tsv passes its cases through `wasmserve test` in
// process, the routers of five languages the one shared file.
func TestExamples(t *testing.T) {
	languages := map[string]bool{}
	for _, e := range readExamples(t) {
		t.Run(e.name, func(t *testing.T) {
			module := testguest.Path(e.module)
			switch e.module {
			case "go":
				module = testguest.Build(t, e.name)
			case "go-command":
				module = testguest.BuildCommand(t, "guest-examples/"+e.name)
			case "component-js":
				module = testguest.BuildComponent(t, "guest-examples/"+e.name)
			}
			args := []string{"test", "--cache-dir", testguest.CacheDir(t)}
			if e.upstream == "echo" {
				_, base, _ := startServer(t, "--no-banner", testguest.Build(t, "echo"))
				args = append(args, "--upstream", base)
			}
			junit := filepath.Join(t.TempDir(), "report.xml")
			args = append(append(args, e.flags...), "--junit", junit, module, e.cases)
			code, out, stderr := runBinary(t, args...)
			if code != 0 || !strings.Contains(out, " passed, 0 failed\n") {
				t.Fatalf("exit %d\n%s%s", code, out, stderr)
			}
			suites := readJUnit(t, junit)
			if suites.Tests == 0 || suites.Failures != 0 {
				t.Fatalf("JUnit report: %d tests, %d failures", suites.Tests, suites.Failures)
			}
		})
		if e.cases == "conformance/cases.yaml" {
			languages[e.name] = true
		}
	}
	if len(languages) < 4 {
		t.Fatalf("the shared cases run for %d guests, want at least 4 languages", len(languages))
	}
}

// junitReport is what CI systems read of a JUnit file.
type junitReport struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Tests int    `xml:"tests,attr"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Time    string `xml:"time,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r junitReport
	if err := xml.Unmarshal(b, &r); err != nil {
		t.Fatalf("JUnit report is not well-formed XML: %v\n%s", err, b)
	}
	return r
}

// TestTestCommandFailing: failing cases exit 1, show the expected and
// actual values side by side, and the JUnit report says which failed and
// why; flags may follow the files.
func TestTestCommandFailing(t *testing.T) {
	junit := filepath.Join(t.TempDir(), "report.xml")
	// Flags after the files, as CI recipes write them.
	code, out, stderr := runBinary(t, "test", "--no-cache",
		"guest-examples/router-wat/router.wasm", "cmd/wasmserve/testdata/cases/failing.yaml", "--junit", junit)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		"PASS cmd/wasmserve/testdata/cases/failing.yaml: passes",
		"FAIL cmd/wasmserve/testdata/cases/failing.yaml: wrong status and body",
		"EXPECTED", "ACTUAL",
		"\n1 passed, 2 failed\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Side by side: the expected and the actual value on one line.
	for _, pair := range [][3]string{
		{"status", "200", "418"},
		{"body", `"coffee\n"`, `"teapot\n"`},
		{"header x-add", `["a", "c"]`, `["a", "b"]`},
		{"header x-set", "absent", `"one"`},
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if strings.HasPrefix(strings.TrimSpace(line), pair[0]+" ") && strings.Contains(line, pair[1]) &&
				strings.Index(line, pair[1]) < strings.LastIndex(line, pair[2]) && len(f) >= 3 {
				found = true
			}
		}
		if !found {
			t.Errorf("no line shows %s: expected %s beside actual %s:\n%s", pair[0], pair[1], pair[2], out)
		}
	}
	r := readJUnit(t, junit)
	if r.Tests != 3 || r.Failures != 2 || len(r.Suites) != 1 || len(r.Suites[0].Cases) != 3 {
		t.Fatalf("JUnit: %d tests, %d failures, %d suites", r.Tests, r.Failures, len(r.Suites))
	}
	cs := r.Suites[0].Cases
	if cs[0].Name != "passes" || cs[0].Failure != nil {
		t.Errorf("first case %q failure %v", cs[0].Name, cs[0].Failure)
	}
	if f := cs[1].Failure; f == nil || !strings.Contains(f.Message, "status: expected 200, got 418") ||
		!strings.Contains(f.Text, `expected: "coffee\n"`) {
		t.Errorf("second case's failure: %+v", f)
	}
}

// TestTestCommandURL: --url runs the same file against a running server,
// and reports the log check it cannot make.
func TestTestCommandURL(t *testing.T) {
	_, base, _ := startServer(t, "--no-banner", "--guest-config-string", "conformance-config",
		testguest.Path("guest-examples/router-c/router.wasm"))
	code, out, stderr := runBinary(t, "test", "--url", base, "conformance/cases.yaml")
	if code != 0 || !strings.Contains(out, " passed, 0 failed\n") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(out, "not checked: log_contains") {
		t.Errorf("the log check is not reported as skipped:\n%s", out)
	}
	// --run selects cases; a trailing slash on the URL is no prefix.
	code, out, _ = runBinary(t, "test", "--url", base+"/", "--run", "^(passes|wrong header)$",
		"cmd/wasmserve/testdata/cases/failing.yaml")
	if code != 1 || !strings.HasSuffix(out, "\n1 passed, 1 failed\n") {
		t.Fatalf("exit %d, want 1 with 1 passed, 1 failed:\n%s", code, out)
	}
}

// TestTestCommandBadInput: a wrong case file or argument gets one message
// naming the file, the case and the field, and exit code 2.
func TestTestCommandBadInput(t *testing.T) {
	wat := "guest-examples/router-wat/router.wasm"
	td := func(name string) string { return "cmd/wasmserve/testdata/cases/" + name }
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no arguments", []string{"test"}, "test takes a module and at least one case file, got 0"},
		{"no case file", []string{"test", wat}, "got 1 arguments"},
		{"missing case file", []string{"test", wat, "nope.yaml"}, "case file nope.yaml: no such file"},
		{"missing module", []string{"test", "nope.wasm", td("failing.yaml")}, "module nope.wasm: no such file"},
		{"unknown field", []string{"test", wat, td("badfield.yaml")}, `badfield.yaml: case 1 ("typo"), expect.stauts (line 5): not a field of expect; did you mean status?`},
		{"no name", []string{"test", wat, td("noname.yaml")}, "noname.yaml: case 1: name: missing"},
		{"bad regexp", []string{"test", wat, td("badregexp.yaml")}, `badregexp.yaml: case 2 ("broken pattern"): expect.body_matches[0]: error parsing regexp`},
		{"two bodies", []string{"test", wat, td("twobodies.yaml")}, `case 1 ("both"): request: body and body_file are exclusive`},
		{"no path", []string{"test", wat, td("nopath.yaml")}, `case 1 ("where"): request.path: missing`},
		{"bad status", []string{"test", wat, td("badstatus.yaml")}, "expect.status: 1000 is not an HTTP status"},
		{"duplicate name", []string{"test", wat, td("duplicate.yaml")}, `case 2 ("same"): name: another case already has this name`},
		{"empty file", []string{"test", wat, td("empty.yaml")}, "empty.yaml is empty"},
		{"url and module", []string{"test", "--url", "http://127.0.0.1:1", wat, td("failing.yaml")}, "drop the module"},
		{"bad url", []string{"test", "--url", "ftp://x", td("failing.yaml")}, `--url "ftp://x": want http://`},
		{"bad run", []string{"test", "--run", "(", wat, td("failing.yaml")}, "--run: error parsing regexp"},
		{"run matches none", []string{"test", "--no-cache", "--run", "nothing-like-this", wat, td("failing.yaml")}, "matches no case"},
		{"unknown flag", []string{"test", "--bogus", wat, td("failing.yaml")}, "--bogus is not a flag"},
		{"serve-only flag", []string{"test", "--watch", wat, td("failing.yaml")}, "--watch is not a flag"},
		{"cacert and insecure", []string{"test", "--url", "https://127.0.0.1:1", "--insecure", "--cacert", "certs/ca.pem", td("failing.yaml")}, "--cacert and --insecure are exclusive"},
		{"cacert not PEM", []string{"test", "--url", "https://127.0.0.1:1", "--cacert", td("failing.yaml"), td("failing.yaml")}, "holds no PEM certificate"},
		{"bad case timeout", []string{"test", "--case-timeout", "0s", wat, td("failing.yaml")}, "--case-timeout must be above 0"},
		{"serve flag checked", []string{"test", "--isolates", "-1", wat, td("failing.yaml")}, "--isolates must be 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := runBinary(t, c.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, out, stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Fatalf("stderr lacks %q:\n%s", c.want, stderr)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("more than one line:\n%s", stderr)
			}
		})
	}
}

// TestSDKFeatures: the Go SDK's middleware mode (the request changed before
// Next, the response after it, Next twice, a failed upstream), announced
// trailers, the request context and the slog handler, seen from outside
// through `wasmserve test`.
func TestSDKFeatures(t *testing.T) {
	guest := testguest.BuildPackage(t, "abi/guest/testdata/sdkguest")
	_, base, _ := startServer(t, "--no-banner", testguest.Build(t, "echo"))
	for _, c := range []struct{ upstream, cases string }{
		{base, "abi/guest/testdata/sdkguest/cases.yaml"},
		{"http://127.0.0.1:1", "abi/guest/testdata/sdkguest/down.yaml"},
	} {
		code, out, stderr := runBinary(t, "test", "--cache-dir", testguest.CacheDir(t), "--isolates", "1",
			"--upstream", c.upstream, guest, c.cases)
		if code != 0 || !strings.Contains(out, " passed, 0 failed\n") {
			t.Errorf("%s: exit %d\n%s%s", c.cases, code, out, stderr)
		}
	}
}

// TestTestCommandHTTPS: --url https:// with --insecure, or with the CA in
// --cacert, passes the cases over TLS (HTTP/2); without either the
// unverifiable certificate fails every case with the client's error.
func TestTestCommandHTTPS(t *testing.T) {
	_, base, _ := startServer(t, "--no-banner", "--tls-cert", testguest.Path("certs/server.pem"),
		"--tls-key", testguest.Path("certs/server-key.pem"), testguest.Path("guest-examples/hello-wat/hello.wasm"))
	base = strings.Replace(base, "http://", "https://", 1)
	code, out, stderr := runBinary(t, "test", "--url", base, "--insecure", "guest-examples/hello/cases.yaml")
	if code != 0 || !strings.HasSuffix(out, "\n2 passed, 0 failed\n") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = runBinary(t, "test", "--url", base, "--cacert", "certs/ca.pem", "guest-examples/hello/cases.yaml")
	if code != 0 || !strings.HasSuffix(out, "\n2 passed, 0 failed\n") {
		t.Fatalf("--cacert: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runBinary(t, "test", "--url", base, "guest-examples/hello/cases.yaml")
	if code != 1 || !strings.Contains(out, "certificate") || !strings.HasSuffix(out, "\n0 passed, 2 failed\n") {
		t.Fatalf("without --insecure: exit %d\n%s", code, out)
	}
}

// TestTestCommandGuestProfile: --guest-profile writes a pprof profile of
// the guest code the cases ran.
func TestTestCommandGuestProfile(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "guest.pprof")
	code, out, stderr := runBinary(t, "test", "--no-cache", "guest-examples/router-wat/router.wasm",
		"conformance/cases.yaml", "--guest-config-string", "conformance-config", "--guest-profile", prof)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	b, err := os.ReadFile(prof)
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile %s: %v, %d bytes (want gzipped pprof)\n%s", prof, err, len(b), stderr)
	}
}

// TestGoGuestPanicAnswer: a Go guest whose handler panics answers as the
// host answers a guest that fails: 500, "500 handler error (request id
// ID)" with the id of the response's X-Request-Id, none of the handler's
// headers; the panic and its stack are in the log.
func TestGoGuestPanicAnswer(t *testing.T) {
	guest := testguest.BuildPackage(t, "abi/guest/testdata/sdkguest")
	_, base, stderr := startServer(t, "--no-banner", "--isolates", "1", guest)
	resp, err := http.Get(base + "/panic")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != 500 || id == "" || string(body) != "500 handler error (request id "+id+")\n" || resp.Header.Get("X-Half-Done") != "" {
		t.Fatalf("%d %q, X-Request-Id %q, X-Half-Done %q", resp.StatusCode, body, id, resp.Header.Get("X-Half-Done"))
	}
	testguest.WaitFor(t, "the panic in the log", func() bool {
		return strings.Contains(stderr.String(), "panic serving request: boom")
	})
	// The line names the request, as the answer does.
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "panic serving request: boom") && !strings.Contains(line, "request_id="+id) {
			t.Errorf("the panic's log line lacks request_id=%s:\n%s", id, line)
		}
	}
}
