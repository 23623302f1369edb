package conformance

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestSubset(t *testing.T) {
	cases := []struct {
		name, want, got, path string
		ok                    bool
	}{
		{"equal scalars", `1`, `1`, "", true},
		{"int and float", `6.5`, `6.5`, "", true},
		{"extra keys", `{"a":1}`, `{"a":1,"b":2}`, "", true},
		{"missing key", `{"a":1,"c":3}`, `{"a":1}`, "$.c", false},
		{"nested", `{"a":{"b":[{"c":true}]}}`, `{"a":{"b":[{"c":true,"d":0}]}}`, "", true},
		{"nested differs", `{"a":{"b":[{"c":true}]}}`, `{"a":{"b":[{"c":false}]}}`, "$.a.b[0].c", false},
		{"array length", `[1,2]`, `[1,2,3]`, "$", false},
		{"type", `{"a":"1"}`, `{"a":1}`, "$.a", false},
		{"null", `{"a":null}`, `{"a":null}`, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want, got any
			json.Unmarshal([]byte(c.want), &want)
			json.Unmarshal([]byte(c.got), &got)
			path, ok := subset(want, got, "$")
			if ok != c.ok || (!ok && path != c.path) {
				t.Fatalf("subset(%s, %s) = %q, %v; want %q, %v", c.want, c.got, path, ok, c.path, c.ok)
			}
		})
	}
}

// TestInProcessLooksLikeAServer: the handler gets what net/http's server
// would give it, and the response has the header as sent and the
// trailers.
func TestInProcessLooksLikeAServer(t *testing.T) {
	f, err := Parse("t.yaml", []byte(`
cases:
  - name: trailers
    request:
      method: POST
      path: /p?q=1
      headers: {x-a: [one, two], host: example.test}
      body: abc
      trailers: {x-sum: "9"}
    expect:
      status: 201
      headers: {x-late: absent-because-late}
      trailers: {x-out: done}
  - name: length
    request: {method: PUT, path: /n, body: "12345"}
    expect: {body: "5 example.test|localhost"}
`))
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/n" {
			io.WriteString(w, r.Header.Get("Content-Length")+" example.test|"+r.Host)
			return
		}
		if r.RequestURI != "/p?q=1" || r.Host != "example.test" || r.RemoteAddr != InProcessRemoteAddr ||
			r.Proto != "HTTP/1.1" || strings.Join(r.Header["X-A"], ",") != "one,two" {
			t.Errorf("request: %q %q %q %q %v", r.RequestURI, r.Host, r.RemoteAddr, r.Proto, r.Header)
		}
		if _, ok := r.Trailer["X-Sum"]; !ok || r.Trailer.Get("X-Sum") != "" {
			t.Errorf("trailer before the body's end: %v", r.Trailer)
		}
		b, _ := io.ReadAll(r.Body)
		if string(b) != "abc" || r.Trailer.Get("X-Sum") != "9" {
			t.Errorf("body %q, trailer %v", b, r.Trailer)
		}
		w.Header().Set(http.TrailerPrefix+"X-Out", "done")
		w.WriteHeader(201)
		w.Header().Set("X-Late", "too late")
	})
	rn := &Runner{Do: InProcess(h)}
	rs := rn.Run(t.Context(), f, nil)
	if len(rs) != 2 {
		t.Fatalf("%d results", len(rs))
	}
	// The first case fails on purpose on x-late: a header set after
	// WriteHeader is not sent.
	if m := rs[0].Mismatches; len(m) != 1 || m[0].What != "header x-late" || m[0].Got != "absent" {
		t.Errorf("first case: %+v", m)
	}
	if !rs[1].Passed() {
		t.Errorf("second case: %+v %v", rs[1].Mismatches, rs[1].Err)
	}
}

// TestInProcessHostileHandler: a handler that panics or writes without end
// fails its case; the runner goes on.
func TestInProcessHostileHandler(t *testing.T) {
	f, err := Parse("t.yaml", []byte("cases:\n  - {name: panics, request: {path: /panic}}\n  - {name: endless, request: {path: /endless}}\n  - {name: fine, request: {path: /}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			panic("boom")
		case "/endless":
			for i := 0; i < 2*MaxResponseBody/len(chunk); i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			t.Error("writes past MaxResponseBody succeeded")
		}
	})
	rs := (&Runner{Do: InProcess(h)}).Run(t.Context(), f, nil)
	if len(rs) != 3 {
		t.Fatalf("%d results", len(rs))
	}
	if rs[0].Err == nil || !strings.Contains(rs[0].Err.Error(), "panicked: boom") {
		t.Errorf("panic: %v", rs[0].Err)
	}
	if rs[1].Err == nil || !strings.Contains(rs[1].Err.Error(), "over 64 MiB") {
		t.Errorf("endless: %v", rs[1].Err)
	}
	if !rs[2].Passed() {
		t.Errorf("the case after them: %v %v", rs[2].Err, rs[2].Mismatches)
	}
}

// FuzzParse: no case file makes Parse panic, and one it accepts has a
// name and a path for every case.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"cases:\n  - {name: a, request: {path: /}}\n",
		"cases:\n  - name: b\n    request: {method: POST, path: /x, headers: {a: [1, 2]}, body: hi}\n    expect: {status: 200, body_json: {a: [1]}, max_duration: 1s}\n",
		"cases: [{name: c, request: {path: /}, expect: {headers_match: {a: '('}}}]",
		"cases:\n  - name: d\n    request: {path: /, trailers: {t: v}}\n",
		"",
		"cases: 3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		file, err := Parse(t.TempDir()+"/f.yaml", []byte(s))
		if err != nil {
			return
		}
		for _, c := range file.Cases {
			if c.Name == "" || !strings.HasPrefix(c.Request.Path, "/") || c.Request.Method == "" {
				t.Fatalf("accepted %+v", c)
			}
		}
	})
}
