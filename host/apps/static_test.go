package apps

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// staticServer serves a folder with index.html, style.css, a sub-folder
// without an index, a link inside it and a link out of it, under
// /assets/..., and a secret beside the folder.
func staticServer(t *testing.T, follow bool) *httptest.Server {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "public")
	for name, body := range map[string]string{
		"index.html":     "<h1>home</h1>",
		"style.css":      "body { color: red }",
		"sub/data.txt":   "0123456789abcdefghij",
		"sub/noext":      "plain words",
		"../secret.txt":  "secret",
		"docs/index.htm": "not an index",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("sub/data.txt", filepath.Join(dir, "inside-link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret.txt", filepath.Join(dir, "outside-link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub", filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	st, err := NewStatic(StaticConfig{Dir: dir, FollowSymlinks: follow})
	if err != nil {
		t.Fatal(err)
	}
	set := NewSet(Options{})
	if _, err := set.Apply(t.Context(), []Spec{{Name: "assets", Kind: KindStatic, Routes: mustRoutes(t, "/assets/...", "/robots/style.css"),
		New: func(context.Context, []byte) (Handler, error) { return st, nil }}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(set)
	t.Cleanup(func() { srv.Close(); set.Close(t.Context()) })
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = path // sent as written: no cleaning on the way
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestStatic(t *testing.T) {
	t.Parallel()
	srv := staticServer(t, false)
	cases := []struct {
		name, path string
		hdr        []string
		status     int
		body       string
		header     [2]string
	}{
		{name: "index of the root", path: "/assets/", status: 200, body: "<h1>home</h1>", header: [2]string{"Content-Type", "text/html; charset=utf-8"}},
		{name: "folder without its slash", path: "/assets", status: 301, header: [2]string{"Location", "/assets/"}},
		{name: "content type by extension", path: "/assets/style.css", status: 200, body: "body { color: red }", header: [2]string{"Content-Type", "text/css; charset=utf-8"}},
		{name: "sniffed content type", path: "/assets/sub/noext", status: 200, body: "plain words", header: [2]string{"Content-Type", "text/plain; charset=utf-8"}},
		{name: "range", path: "/assets/sub/data.txt", hdr: []string{"Range", "bytes=5-9"}, status: 206, body: "56789", header: [2]string{"Content-Range", "bytes 5-9/20"}},
		{name: "suffix range", path: "/assets/sub/data.txt", hdr: []string{"Range", "bytes=-3"}, status: 206, body: "hij"},
		{name: "unsatisfiable range", path: "/assets/sub/data.txt", hdr: []string{"Range", "bytes=50-60"}, status: 416},
		{name: "folder without an index is not listed", path: "/assets/sub/", status: 404},
		{name: "index.htm is no index", path: "/assets/docs/", status: 404},
		{name: "missing file", path: "/assets/nope.txt", status: 404},
		{name: "dot-dot out of the route", path: "/assets/../secret.txt", status: 404},
		{name: "encoded dot-dot", path: "/assets/sub/..%2f..%2f..%2fsecret.txt", status: 404},
		{name: "dot-dot inside the folder", path: "/assets/sub/../style.css", status: 200, body: "body { color: red }"},
		{name: "link out of the folder", path: "/assets/outside-link.txt", status: 404},
		{name: "link inside the folder refused by default", path: "/assets/inside-link.txt", status: 404},
		{name: "path through a linked folder refused", path: "/assets/linkdir/data.txt", status: 404},
		{name: "exact route serves its file", path: "/robots/style.css", status: 200, body: "body { color: red }"},
		{name: "unrouted", path: "/secret.txt", status: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, srv, tc.path, tc.hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("GET %s: %d %q, want %d", tc.path, resp.StatusCode, body, tc.status)
			}
			if tc.body != "" && body != tc.body {
				t.Errorf("GET %s: body %q, want %q", tc.path, body, tc.body)
			}
			if strings.Contains(body, "secret") && !strings.Contains(tc.name, "secret") {
				t.Errorf("GET %s: the secret leaked", tc.path)
			}
			if tc.header[0] != "" && resp.Header.Get(tc.header[0]) != tc.header[1] {
				t.Errorf("GET %s: %s %q, want %q", tc.path, tc.header[0], resp.Header.Get(tc.header[0]), tc.header[1])
			}
		})
	}
}

func TestStaticConditional(t *testing.T) {
	t.Parallel()
	srv := staticServer(t, false)
	resp, _ := get(t, srv, "/assets/style.css")
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || lm == "" {
		t.Fatalf("ETag %q, Last-Modified %q: want both", etag, lm)
	}
	for _, tc := range []struct {
		name   string
		hdr    []string
		status int
	}{
		{"if-none-match", []string{"If-None-Match", etag}, 304},
		{"weak if-none-match (after compression)", []string{"If-None-Match", "W/" + etag}, 304},
		{"other etag", []string{"If-None-Match", `"other"`}, 200},
		{"if-modified-since", []string{"If-Modified-Since", lm}, 304},
		{"if-range with the etag", []string{"Range", "bytes=0-3", "If-Range", etag}, 206},
		{"if-range with another etag", []string{"Range", "bytes=0-3", "If-Range", `"other"`}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := get(t, srv, "/assets/style.css", tc.hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("%v: %d, want %d", tc.hdr, resp.StatusCode, tc.status)
			}
		})
	}
	req, _ := http.NewRequest("POST", srv.URL+"/assets/style.css", nil)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 405 || r2.Header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d Allow %q, want 405 GET, HEAD", r2.StatusCode, r2.Header.Get("Allow"))
	}
}

func TestStaticFollowSymlinks(t *testing.T) {
	t.Parallel()
	srv := staticServer(t, true)
	for path, want := range map[string]int{
		"/assets/inside-link.txt":  200,
		"/assets/linkdir/data.txt": 200,
		"/assets/outside-link.txt": 404, // os.Root keeps links inside
	} {
		if resp, body := get(t, srv, path); resp.StatusCode != want || strings.Contains(body, "secret") {
			t.Errorf("GET %s: %d %q, want %d", path, resp.StatusCode, body, want)
		}
	}
}

func TestNewStaticErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	for dir, want := range map[string]string{
		filepath.Join(t.TempDir(), "missing"): "does not exist",
		file:                                  "not a directory",
	} {
		if _, err := NewStatic(StaticConfig{Dir: dir}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewStatic(%s) = %v, want %q", dir, err, want)
		}
	}
}
