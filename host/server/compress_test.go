package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// startServer serves h with cfg on 127.0.0.1 and returns the server and its
// base URL; it is shut down when the test ends.
func startServer(t *testing.T, cfg Config, h http.Handler) (*Server, string) {
	t.Helper()
	cfg.Address = "127.0.0.1"
	srv := NewServer(cfg, h)
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
	})
	return srv, "http://" + srv.Addr().String()
}

// rawClient sends Accept-Encoding as given and leaves bodies encoded.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}

// decode undoes a Content-Encoding with the libraries' own readers.
func decode(t *testing.T, enc string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch enc {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("unknown encoding %q", enc)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", enc, err)
	}
	return out
}

// TestCompression: negotiation from Accept-Encoding q-values, and every
// case where nothing may be compressed.
func TestCompression(t *testing.T) {
	text := strings.Repeat("wasmserve compresses text; ", 200) // 5.4 KB
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		body := text
		if n := q.Get("size"); n != "" {
			size, _ := strconv.Atoi(n)
			body = text[:size]
		}
		if ct := q.Get("type"); ct != "none" {
			if ct == "" {
				ct = "text/plain; charset=utf-8"
			}
			w.Header().Set("Content-Type", ct)
		}
		if e := q.Get("encoded"); e != "" {
			w.Header().Set("Content-Encoding", e)
		}
		if q.Has("length") {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		if q.Has("etag") {
			w.Header().Set("ETag", `"v1"`)
		}
		code := 200
		if c := q.Get("code"); c != "" {
			code, _ = strconv.Atoi(c)
		}
		if code == 206 {
			w.Header().Set("Content-Range", "bytes 0-99/5400")
		}
		w.WriteHeader(code)
		if code != 204 && code != 304 {
			io.WriteString(w, body)
		}
	})
	_, base := startServer(t, Config{Compress: &CompressConfig{}}, handler)
	cases := []struct {
		name, accept, query, method string
		wantEnc                     string
		wantVary                    bool
	}{
		{"gzip", "gzip", "", "GET", "gzip", true},
		{"br", "br", "", "GET", "br", true},
		{"zstd", "zstd", "", "GET", "zstd", true},
		{"x-gzip alias", "x-gzip", "", "GET", "gzip", true},
		{"browser list prefers zstd", "gzip, deflate, br, zstd", "", "GET", "zstd", true},
		{"highest q wins", "gzip;q=0.5, br;q=0.9, zstd;q=0.1", "", "GET", "br", true},
		{"q=0 refuses", "zstd;q=0, br;q=0, gzip", "", "GET", "gzip", true},
		{"all refused", "zstd;q=0, br;q=0, gzip;q=0", "", "GET", "", true},
		{"star", "*", "", "GET", "zstd", true},
		{"star below a named one", "*;q=0.1, gzip;q=0.5", "", "GET", "gzip", true},
		{"star refused", "*;q=0", "", "GET", "", true},
		{"identity only", "identity", "", "GET", "", true},
		{"no Accept-Encoding", "", "", "GET", "", true},
		{"bad q refuses", "gzip;q=high", "", "GET", "", true},
		{"json", "gzip", "type=application/json", "GET", "gzip", true},
		{"svg", "gzip", "type=image/svg+xml", "GET", "gzip", true},
		{"wasm", "gzip", "type=application/wasm", "GET", "gzip", true},
		{"sniffed text", "gzip", "type=none", "GET", "gzip", true},
		{"known length", "gzip", "length", "GET", "gzip", true},
		{"strong etag made weak", "gzip", "etag", "GET", "gzip", true},
		{"small body", "gzip", "size=100", "GET", "", true},
		{"small known length", "gzip", "size=100&length", "GET", "", true},
		{"png not compressible", "gzip", "type=image/png", "GET", "", false},
		{"already encoded", "gzip", "encoded=br", "GET", "br", false},
		{"HEAD", "gzip", "", "HEAD", "", true},
		{"204", "gzip", "code=204", "GET", "", false},
		{"304", "gzip", "code=304", "GET", "", false},
		{"206 range", "gzip", "code=206", "GET", "", false},
		{"404 page", "gzip", "code=404", "GET", "gzip", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, base+"/?"+strings.ReplaceAll(c.query, "+", "%2B"), nil)
			if c.accept != "" {
				req.Header.Set("Accept-Encoding", c.accept)
			}
			resp, err := rawClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			enc := resp.Header.Get("Content-Encoding")
			if enc != c.wantEnc {
				t.Fatalf("Content-Encoding %q, want %q", enc, c.wantEnc)
			}
			vary := strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding")
			if vary != c.wantVary {
				t.Errorf("Vary %q, want Accept-Encoding: %v", resp.Header.Get("Vary"), c.wantVary)
			}
			if c.method == "HEAD" || resp.StatusCode == 204 || resp.StatusCode == 304 {
				return
			}
			if c.query == "encoded=br" {
				return // the handler's bytes, passed through
			}
			want := text
			if strings.Contains(c.query, "size=100") {
				want = text[:100]
			}
			if c.query == "code=206" {
				want = text
			}
			if got := decode(t, enc, body); string(got) != want {
				t.Errorf("decoded %d bytes, want %d", len(got), len(want))
			}
			if enc != "" {
				if len(body) >= len(want) {
					t.Errorf("compressed %d bytes to %d", len(want), len(body))
				}
				if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
					t.Errorf("Content-Length %s on a compressed body of %d bytes", cl, len(body))
				}
			}
			if c.query == "type=none" && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("sniffed Content-Type %q", resp.Header.Get("Content-Type"))
			}
			if c.query == "etag" && resp.Header.Get("ETag") != `W/"v1"` {
				t.Errorf("ETag %q, want the weak W/\"v1\"", resp.Header.Get("ETag"))
			}
		})
	}
}

// TestCompressionCurl: curl, a client that is not Go, decodes each
// encoding.
func TestCompressionCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (apt-get install -y curl)")
	}
	text := strings.Repeat("curl decodes this; ", 300)
	_, base := startServer(t, Config{Compress: &CompressConfig{}}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, text)
	}))
	for _, enc := range encodings {
		t.Run(enc, func(t *testing.T) {
			out, err := exec.Command("curl", "-sS", "--compressed", "-H", "Accept-Encoding: "+enc,
				"-D", "/dev/stderr", base+"/").Output()
			if err != nil {
				if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(ee.Stderr), "Unrecognized content encoding") {
					t.Skipf("this curl cannot decode %s", enc)
				}
				t.Fatalf("curl: %v", err)
			}
			if string(out) != text {
				t.Errorf("curl got %d bytes, want %d", len(out), len(text))
			}
		})
	}
}

// TestCompressionStreams: a 5 MB body is compressed as it is written. The
// handler stops after its first megabyte until the client has decoded bytes
// of it: a compressor that held the whole body would deadlock the test
// (bounded by a timeout) instead.
func TestCompressionStreams(t *testing.T) {
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	const chunks = 80                                       // 5 MiB
	seen := make(chan struct{})
	_, base := startServer(t, Config{Compress: &CompressConfig{}}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream+json")
		rc := http.NewResponseController(w)
		for i := range chunks {
			w.Write(chunk)
			if i == 16 {
				rc.Flush()
				select {
				case <-seen:
				case <-time.After(10 * time.Second):
					t.Error("the client saw nothing of the first megabyte: the body was held")
					return
				}
			}
		}
	}))
	req, _ := http.NewRequest("GET", base+"/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, len(chunk))
	if _, err := io.ReadFull(zr, first); err != nil {
		t.Fatal(err)
	}
	close(seen)
	rest, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if total := len(first) + len(rest); total != chunks*len(chunk) {
		t.Errorf("decoded %d bytes, want %d", total, chunks*len(chunk))
	}
	if !bytes.Equal(first, chunk) {
		t.Error("first chunk differs")
	}
}

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]int{
		"": -1, "gzip": 2, "GZIP": 2, " br ; q=1.0 ": 1, "zstd;q=0.001": 0, "gzip;q=1.5": -1,
		"deflate": -1, "*;q=0.5, zstd;q=0": 1, "br;Q=0.2, gzip;q=0.3": 2,
	} {
		if got := negotiate(accept); got != want {
			t.Errorf("negotiate(%q) = %d, want %d", accept, got, want)
		}
	}
}
