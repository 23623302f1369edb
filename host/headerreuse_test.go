package host

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// TestGoGuestHeaderMapsReused: the Go SDK reuses its request and response
// header maps between the requests of an isolate; on one isolate, no
// request sees a header of the one before, in its request or in its
// response, with one response header or several, and whether the handler
// added request headers of its own.
func TestGoGuestHeaderMapsReused(t *testing.T) {
	wasm, err := os.ReadFile(testguest.BuildPackage(t, "abi/guest/testdata/headerreuse"))
	if err != nil {
		t.Fatal(err)
	}
	base, _ := start(t, wasm, 1)
	steps := []struct {
		name     string
		query    string
		reqHdr   string // a request header X-Req: this value, or none
		wantResp map[string]string
		absent   []string
		wantBody string
	}{
		{"all kinds", "?h=X-Set:1&h=Content-Type:text/x-a&addreq=X-Added", "a",
			map[string]string{"X-Set": "1", "Content-Type": "text/x-a"}, nil, "Accept-Encoding,User-Agent,X-Added,X-Req,X-Request-Id"},
		{"nothing after", "", "",
			map[string]string{"Content-Type": "text/plain; charset=utf-8"}, []string{"X-Set"}, "Accept-Encoding,User-Agent,X-Request-Id"},
		{"two known keys", "?h=Content-Type:a/b&h=Cache-Control:no-store", "",
			map[string]string{"Content-Type": "a/b", "Cache-Control": "no-store"}, nil, "Accept-Encoding,User-Agent,X-Request-Id"},
		{"one known key after two", "?h=Cache-Control:max-age=1", "b",
			map[string]string{"Cache-Control": "max-age=1", "Content-Type": "text/plain; charset=utf-8"}, nil, "Accept-Encoding,User-Agent,X-Req,X-Request-Id"},
		{"three keys iterated", "?h=X-1:1&h=X-2:2&h=X-3:3", "",
			map[string]string{"X-1": "1", "X-2": "2", "X-3": "3"}, nil, "Accept-Encoding,User-Agent,X-Request-Id"},
		{"nothing after iterated", "", "",
			nil, []string{"X-1", "X-2", "X-3", "Cache-Control"}, "Accept-Encoding,User-Agent,X-Request-Id"},
	}
	for _, s := range steps {
		req := mustNew(t, "GET", base+"/"+s.query)
		if s.reqHdr != "" {
			req.Header.Set("X-Req", s.reqHdr)
		}
		resp := mustDo(t, req)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %q %v", s.name, resp.StatusCode, body, err)
		}
		if got := string(body); got != s.wantBody {
			t.Errorf("%s: request headers %q, want %q", s.name, got, s.wantBody)
		}
		for k, v := range s.wantResp {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: response %s %q, want %q", s.name, k, got, v)
			}
		}
		for _, k := range s.absent {
			if v, ok := resp.Header[http.CanonicalHeaderKey(k)]; ok {
				t.Errorf("%s: response has %s %q from an earlier request", s.name, k, strings.Join(v, ","))
			}
		}
	}
}
