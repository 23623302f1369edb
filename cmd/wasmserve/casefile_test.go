package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestCaseFileMessages: a case file is forgiving where it can be (a single
// string for a list) and says exactly what is wrong where it cannot: the
// case, the field, the line, and the field meant.
func TestCaseFileMessages(t *testing.T) {
	hello := testguest.Path("guest-examples/hello-wat/hello.wasm")
	cases := []struct {
		name, yaml string
		code       int
		want       []string
	}{
		{"a single string for a list", `cases:
  - name: greets
    request: {path: /hi}
    expect:
      body_contains: Hello
      body_not_contains: Goodbye
      headers_absent: x-debug
`, 0, []string{"1 passed, 0 failed"}},
		{"a misspelt field", `cases:
  - name: first
    request: {path: /}
  - name: typo
    request: {path: /hello, methd: POST}
`, 2, []string{`case 2 ("typo"), request.methd (line 5): not a field of request; did you mean method?`}},
		{"a field of no type", `cases:
  - name: odd
    request: {path: /}
    expect:
      zzzq: 1
`, 2, []string{`case 1 ("odd"), expect.zzzq (line 5): not a field of expect (its fields: status, headers,`}},
		{"a value of the wrong kind", `cases:
  - name: kind
    request: {path: /}
    expect:
      status: "200"
      headers: [x-a]
`, 2, []string{`case 1 ("kind"), expect.headers (line 6): want a mapping of names to values, not a list`,
			"(wasmserve test --schema prints the format)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "cases.yaml"), []byte(c.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runIn(t, dir, nil, "test", "--cache-dir", testguest.CacheDir(t), hello, "cases.yaml")
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, stdout, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("output lacks %q:\n%s%s", w, stdout, stderr)
				}
			}
			if strings.Contains(stderr, "conformance/cases.schema.json") {
				t.Errorf("the message points into wasmserve's repository:\n%s", stderr)
			}
		})
	}
}

// TestCaseFileSchema: `wasmserve test --schema` prints the schema of case
// files, the repository's conformance/cases.schema.json, as JSON.
func TestCaseFileSchema(t *testing.T) {
	code, stdout, stderr := runIn(t, t.TempDir(), nil, "test", "--schema")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(stdout), &schema); err != nil || schema["$schema"] == nil {
		t.Fatalf("not a JSON Schema (%v):\n%s", err, stdout)
	}
	file, err := os.ReadFile(testguest.Path("conformance/cases.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(stdout), file) {
		t.Error("--schema prints something else than conformance/cases.schema.json")
	}
}

// TestLongBodyDiff: a body too long for a line of the table is shown as a
// unified diff of the expected and actual bodies.
func TestLongBodyDiff(t *testing.T) {
	hello := testguest.Path("guest-examples/hello-wat/hello.wasm")
	path := "/a/path/long/enough/for/the/greeting/to/be/wider/than/a/column/of/the/table"
	dir := t.TempDir()
	yaml := "cases:\n  - name: long\n    request: {path: " + path + "}\n    expect:\n      body: \"Hello from wasmserve: " +
		strings.TrimSuffix(path, "table") + "tabel\\n\"\n"
	if err := os.WriteFile(filepath.Join(dir, "cases.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runIn(t, dir, nil, "test", "--cache-dir", testguest.CacheDir(t), hello, "cases.yaml")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"body, expected (-) and actual (+):",
		"      --- expected\n      +++ actual\n      @@ -1 +1 @@\n",
		"      -Hello from wasmserve: " + strings.TrimSuffix(path, "table") + "tabel\n",
		"      +Hello from wasmserve: " + path + "\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}
