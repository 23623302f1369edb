package httpwasm

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wasmserve/wasmserve/abi"
)

func newRequest(method, target, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.RemoteAddr = "192.0.2.7:4711"
	return r
}

// TestGetStringFunctions covers the (buf, buf_limit) -> len functions for
// every buffer situation: exact fit, larger, shorter than the value, zero,
// and out of range.
func TestGetStringFunctions(t *testing.T) {
	p := newProbe(t, &Host{Config: []byte("cfg=1")})
	r := newRequest("PATCH", "/a%20b/c?q=1&r", "")
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
	want := map[string]string{
		abi.FuncGetMethod:          "PATCH",
		abi.FuncGetURI:             "/a%20b/c?q=1&r",
		abi.FuncGetProtocolVersion: "HTTP/2.0",
		abi.FuncGetSourceAddr:      "192.0.2.7:4711",
		abi.FuncGetConfig:          "cfg=1",
	}
	for fn, value := range want {
		n := uint64(len(value))
		cases := []struct {
			name      string
			buf, lim  uint64
			wantWrite bool
			wantTrap  bool
		}{
			{"exact buffer", 100, n, true, false},
			{"larger buffer", 100, 4096, true, false},
			{"buffer one short", 100, n - 1, false, false},
			{"zero limit asks the length", 0, 0, false, false},
			{"ends at the last byte of memory", memSize - n, n, true, false},
			{"short limit with out-of-range pointer writes nothing", 1 << 31, n - 1, false, false},
			{"pointer out of range", memSize - n + 1, n, false, true},
			{"pointer far out of range", 0xFFFFFFF0, 4096, false, true},
		}
		for _, tc := range cases {
			t.Run(fn+"/"+tc.name, func(t *testing.T) {
				_, err := p.serve(r, func(ctx context.Context) {
					p.fill()
					if tc.wantTrap {
						p.trap(ctx, fn, tc.buf, tc.lim)
						if !p.untouched() {
							t.Error("a trapping call wrote to memory")
						}
						return
					}
					got := p.must(ctx, fn, tc.buf, tc.lim)
					if got != n {
						t.Errorf("returned %d, want the full length %d", got, n)
					}
					if !tc.wantWrite {
						if !p.untouched() {
							t.Error("wrote to memory although the value did not fit")
						}
						return
					}
					if s := string(p.read(uint32(tc.buf), uint32(n))); s != value {
						t.Errorf("wrote %q, want %q", s, value)
					}
					// Nothing beyond the value may change.
					p.write(uint32(tc.buf), []byte(strings.Repeat("\xAA", int(n))))
					if !p.untouched() {
						t.Error("wrote outside [buf, buf+len)")
					}
				})
				// A trap ends only the nested call; the outer
				// handle_request goes on and succeeds.
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestEmptyValues(t *testing.T) {
	p := newProbe(t, &Host{})
	r := newRequest("GET", "/", "")
	r.RemoteAddr = ""
	r.URL.Path = ""
	_, err := p.serve(r, func(ctx context.Context) {
		p.fill()
		if n := p.must(ctx, abi.FuncGetConfig, 0, 100); n != 0 {
			t.Errorf("get_config without config = %d, want 0", n)
		}
		if n := p.must(ctx, abi.FuncGetSourceAddr, 0, 100); n != 0 {
			t.Errorf("get_source_addr with no address = %d, want 0", n)
		}
		if n := p.must(ctx, abi.FuncGetURI, 0, 100); n != 1 || string(p.read(0, 1)) != "/" {
			t.Errorf("get_uri of an empty path = %d %q, want \"/\"", n, p.read(0, 1))
		}
		// An empty value may come with any pointer.
		if n := p.must(ctx, abi.FuncGetConfig, 0xFFFFFFFF, 0); n != 0 {
			t.Errorf("get_config = %d", n)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// nul builds the NUL-terminated list encoding.
func nul(vs ...string) string { return string(abi.AppendNULList(nil, vs...)) }

func TestGetHeaderNamesAndValues(t *testing.T) {
	p := newProbe(t, &Host{})
	r := newRequest("GET", "http://example.test/", "")
	r.Header = http.Header{"X-Multi": {"a", "bc"}, "Accept": {"*/*"}, "X-Empty": {""}}
	type tc struct {
		name      string
		kind      uint64
		header    string // "" means get_header_names
		wantCount uint32
		wantList  []string // any order for names
		unordered bool
	}
	cases := []tc{
		{"request names", 0, "", 4, []string{"host", "x-multi", "accept", "x-empty"}, true},
		{"values in order", 0, "x-multi", 2, []string{"a", "bc"}, false},
		{"case-insensitive name", 0, "X-MULTI", 2, []string{"a", "bc"}, false},
		{"empty value", 0, "x-empty", 1, []string{""}, false},
		{"host from the request line", 0, "host", 1, []string{"example.test"}, false},
		{"missing header", 0, "x-none", 0, nil, false},
		{"no response headers yet", 1, "", 0, nil, false},
		{"trailers off", 2, "", 0, nil, false},
		{"response trailers off", 3, "", 0, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := p.serve(r, func(ctx context.Context) {
				p.fill()
				var res uint64
				get := func(buf, lim uint64) uint64 {
					if c.header == "" {
						return p.must(ctx, abi.FuncGetHeaderNames, c.kind, buf, lim)
					}
					p.write(60000, []byte(c.header))
					return p.must(ctx, abi.FuncGetHeaderValues, c.kind, 60000, uint64(len(c.header)), buf, lim)
				}
				res = get(0, 0)
				count, size := abi.DecodeCountLen(res)
				if count != c.wantCount {
					t.Fatalf("count = %d, want %d", count, c.wantCount)
				}
				if size != uint32(len(nul(c.wantList...))) {
					t.Fatalf("size = %d, want %d", size, len(nul(c.wantList...)))
				}
				if size == 0 {
					return
				}
				if get(100, uint64(size-1)) != res || string(p.read(100, 1)) != "\xAA" {
					t.Error("a short buffer must return the same result and write nothing")
				}
				if got := get(100, uint64(size)); got != res {
					t.Errorf("result %x, want %x", got, res)
				}
				list := abi.SplitNULList(p.read(100, size))
				if p.read(100+size, 1)[0] != 0xAA {
					t.Error("wrote past the list")
				}
				if c.unordered {
					seen := map[string]bool{}
					for _, v := range list {
						seen[v] = true
					}
					for _, w := range c.wantList {
						if !seen[w] {
							t.Errorf("names %q lack %q", list, w)
						}
					}
				} else if strings.Join(list, "|") != strings.Join(c.wantList, "|") {
					t.Errorf("values %q, want %q", list, c.wantList)
				}
				p.trap(ctx, abi.FuncGetHeaderNames, c.kind, memSize-1, 4096)
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestHeaderWrites(t *testing.T) {
	p := newProbe(t, &Host{})
	str := func(off uint32, s string) (uint64, uint64) {
		p.write(off, []byte(s))
		return uint64(off), uint64(len(s))
	}
	r := newRequest("GET", "http://example.test/", "")
	r.Header.Set("X-Old", "1")
	w, err := p.serve(r, func(ctx context.Context) {
		n, nl := str(0, "x-old")
		v, vl := str(100, "2")
		p.must(ctx, abi.FuncSetHeaderValue, 0, n, nl, v, vl)
		v, vl = str(100, "3")
		p.must(ctx, abi.FuncAddHeaderValue, 0, n, nl, v, vl)
		n, nl = str(0, "Host")
		v, vl = str(100, "other.test")
		p.must(ctx, abi.FuncSetHeaderValue, 0, n, nl, v, vl)
		n, nl = str(0, "x-gone")
		p.must(ctx, abi.FuncAddHeaderValue, 0, n, nl, v, vl)
		p.must(ctx, abi.FuncRemoveHeader, 0, n, nl)
		n, nl = str(0, "content-type")
		v, vl = str(100, "text/x-test")
		p.must(ctx, abi.FuncSetHeaderValue, 1, n, nl, v, vl)
		n, nl = str(0, "x-resp")
		v, vl = str(100, "a")
		p.must(ctx, abi.FuncAddHeaderValue, 1, n, nl, v, vl)
		v, vl = str(100, "b")
		p.must(ctx, abi.FuncAddHeaderValue, 1, n, nl, v, vl)
		p.must(ctx, abi.FuncSetStatusCode, 201)
		if got := p.must(ctx, abi.FuncGetStatusCode); got != 201 {
			t.Errorf("get_status_code = %d after set 201", got)
		}

		// Invalid names and values trap: no response splitting.
		n, nl = str(0, "bad name")
		v, vl = str(100, "x")
		p.trap(ctx, abi.FuncSetHeaderValue, 1, n, nl, v, vl)
		n, nl = str(0, "x-ok")
		v, vl = str(100, "a\r\nSet-Cookie: evil=1")
		p.trap(ctx, abi.FuncAddHeaderValue, 1, n, nl, v, vl)
		p.trap(ctx, abi.FuncSetHeaderValue, 1, 0, 0, v, vl)
		p.trap(ctx, abi.FuncSetHeaderValue, 7, n, nl, v, vl)
		p.trap(ctx, abi.FuncRemoveHeader, 0, memSize, 1)
		p.trap(ctx, abi.FuncSetHeaderValue, 1, n, nl, memSize-1, 2)
		p.trap(ctx, abi.FuncSetStatusCode, 99)
		p.trap(ctx, abi.FuncSetStatusCode, 1000)
		p.trap(ctx, abi.FuncSetHeaderValue, 2, n, nl, v, 1) // trailers not enabled
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Values("X-Old"); strings.Join(got, ",") != "2,3" {
		t.Errorf("request X-Old = %q, want [2 3]", got)
	}
	if r.Host != "other.test" {
		t.Errorf("request host = %q", r.Host)
	}
	if _, ok := r.Header["X-Gone"]; ok {
		t.Error("removed header still present")
	}
	if w.Code != 201 || w.Header().Get("Content-Type") != "text/x-test" ||
		strings.Join(w.Header().Values("X-Resp"), ",") != "a,b" || w.Header().Get("X-Ok") != "" {
		t.Errorf("response %d %v", w.Code, w.Header())
	}
}

func TestMethodAndURIWrites(t *testing.T) {
	var seen *http.Request
	p := newProbe(t, &Host{Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Next-Body", string(body))
		w.WriteHeader(299)
	})})
	r := newRequest("GET", "/old?x=1", "original body")
	cases := []struct {
		name, fn, value string
		trap            bool
	}{
		{"method", abi.FuncSetMethod, "DELETE", false},
		{"invalid method", abi.FuncSetMethod, "GE T", true},
		{"empty method", abi.FuncSetMethod, "", true},
		{"uri without leading slash", abi.FuncSetURI, "http://evil/", true},
		{"uri with bad escape", abi.FuncSetURI, "/%zz", true},
		{"uri", abi.FuncSetURI, "/new%2Fpath?y=2", false},
	}
	calls := 0
	w, err := p.serve(r, func(ctx context.Context) {
		if calls++; calls > 1 {
			return // handle_response
		}
		for _, c := range cases {
			p.write(0, []byte(c.value))
			if c.trap {
				p.trap(ctx, c.fn, 0, uint64(len(c.value)))
			} else {
				p.must(ctx, c.fn, 0, uint64(len(c.value)))
			}
		}
		p.write(0, []byte("rewritten"))
		p.must(ctx, abi.FuncWriteBody, 0, 0, 4)
		p.must(ctx, abi.FuncWriteBody, 0, 4, 5)
		p.mod.ExportedFunction("set_result").Call(ctx, abi.EncodeHandleRequest(42, true))
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == nil {
		t.Fatal("next was not called")
	}
	if seen.Method != "DELETE" || seen.URL.Path != "/new/path" || seen.URL.RawQuery != "y=2" || seen.RequestURI != "/new%2Fpath?y=2" {
		t.Errorf("next saw %s %q %q %q", seen.Method, seen.URL.Path, seen.URL.RawQuery, seen.RequestURI)
	}
	if w.Code != 299 || w.Header().Get("X-Next-Body") != "rewritten" {
		t.Errorf("response %d, next body %q", w.Code, w.Header().Get("X-Next-Body"))
	}
}

// TestPhaseRules: after next, the request is fixed and the response belongs
// to the next handler; handle_response gets the request context back.
func TestPhaseRules(t *testing.T) {
	p := newProbe(t, &Host{})
	r := newRequest("GET", "/", "")
	calls := 0
	w, err := p.serve(r, func(ctx context.Context) {
		calls++
		if calls == 1 {
			p.mod.ExportedFunction("set_result").Call(ctx, abi.EncodeHandleRequest(7, true))
			return
		}
		p.write(0, []byte("x-a"))
		p.trap(ctx, abi.FuncSetHeaderValue, 0, 0, 3, 0, 1)
		p.trap(ctx, abi.FuncSetMethod, 0, 3)
		p.trap(ctx, abi.FuncSetStatusCode, 200)
		p.trap(ctx, abi.FuncWriteBody, 1, 0, 1)
		if got := p.must(ctx, abi.FuncGetStatusCode); got != 404 {
			t.Errorf("get_status_code after next = %d, want the next handler's 404", got)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("hook ran %d times, want handle_request and handle_response", calls)
	}
	if w.Code != http.StatusNotFound {
		t.Errorf("next without a next handler answered %d, want 404", w.Code)
	}
}

func TestReadBody(t *testing.T) {
	p := newProbe(t, &Host{})
	body := strings.Repeat("0123456789", 1000)
	r := newRequest("POST", "/", body)
	_, err := p.serve(r, func(ctx context.Context) {
		if v := p.must(ctx, abi.FuncReadBody, 0, 0, 0); v != abi.EncodeEOFLen(false, 0) {
			t.Errorf("zero limit read = %x", v)
		}
		var got []byte
		for i := 0; ; i++ {
			if i > 10000 {
				t.Fatal("no EOF")
			}
			eof, n := abi.DecodeEOFLen(p.must(ctx, abi.FuncReadBody, 0, 1000, 333))
			got = append(got, p.read(1000, n)...)
			if eof {
				break
			}
		}
		if string(got) != body {
			t.Errorf("read %d bytes, want %d", len(got), len(body))
		}
		if v := p.must(ctx, abi.FuncReadBody, 0, 1000, 333); v != abi.EncodeEOFLen(true, 0) {
			t.Errorf("read after EOF = %x, want EOF", v)
		}
		if v := p.must(ctx, abi.FuncReadBody, 1, 1000, 333); v != abi.EncodeEOFLen(true, 0) {
			t.Errorf("response body read = %x, want EOF", v)
		}
		p.trap(ctx, abi.FuncReadBody, 5, 0, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	r = newRequest("POST", "/", body)
	_, err = p.serve(r, func(ctx context.Context) {
		p.trap(ctx, abi.FuncReadBody, 0, memSize-10, 11)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadBodyEOFAtContentLength: an HTTP/1 body of known length reports
// EOF with its last bytes, even from a reader that says so only on the next
// read (as bytes.Reader does); a body of unknown length, an HTTP/2 one
// (which may still have trailers to come), and a declared length that does
// not end on a read's edge wait for the reader's own EOF.
func TestReadBodyEOFAtContentLength(t *testing.T) {
	p := newProbe(t, &Host{})
	const body = "0123456789abcdef"
	tests := []struct {
		name    string
		major   int
		length  int64
		wantEOF bool
	}{
		{"HTTP/1.1 with Content-Length", 1, 16, true},
		{"HTTP/1.1 chunked", 1, -1, false},
		{"HTTP/2 with Content-Length", 2, 16, false},
		{"HTTP/1.1 declaring more than one read gives", 1, 17, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest("POST", "/", "")
			r.Body = io.NopCloser(bytes.NewReader([]byte(body)))
			r.ProtoMajor, r.ContentLength = tc.major, tc.length
			_, err := p.serve(r, func(ctx context.Context) {
				eof, n := abi.DecodeEOFLen(p.must(ctx, abi.FuncReadBody, 0, 1000, 100))
				if n != uint32(len(body)) || string(p.read(1000, n)) != body {
					t.Errorf("read %d bytes %q, want %q", n, p.read(1000, n), body)
				}
				if eof != tc.wantEOF {
					t.Errorf("eof with the last bytes = %v, want %v", eof, tc.wantEOF)
				}
				if eof, n := abi.DecodeEOFLen(p.must(ctx, abi.FuncReadBody, 0, 1000, 100)); !eof || n != 0 {
					t.Errorf("next read = eof %v, %d bytes; want EOF", eof, n)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWriteBodyHoldsThenStreams(t *testing.T) {
	p := newProbe(t, &Host{})
	w, err := p.serve(newRequest("GET", "/", ""), func(ctx context.Context) {
		p.write(0, []byte("hello, world"))
		p.must(ctx, abi.FuncSetStatusCode, 202)
		p.must(ctx, abi.FuncWriteBody, 1, 0, 5)
		p.must(ctx, abi.FuncWriteBody, 1, 5, 7)
		p.must(ctx, abi.FuncWriteBody, 1, 0, 0)
		// A small body is held: status and headers may still change.
		p.must(ctx, abi.FuncSetStatusCode, 201)
		p.must(ctx, abi.FuncSetHeaderValue, 1, 0, 1, 0, 1)
		p.trap(ctx, abi.FuncWriteBody, 1, memSize-1, 2)
		p.trap(ctx, abi.FuncWriteBody, 9, 0, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.Code != 201 || w.Body.String() != "hello, world" || w.Header().Get("h") != "h" {
		t.Errorf("got %d %q %v", w.Code, w.Body.String(), w.Header())
	}

	// Past the hold limit the status and headers go out and the rest
	// streams: changing them then traps.
	w, err = p.serve(newRequest("GET", "/", ""), func(ctx context.Context) {
		p.must(ctx, abi.FuncSetStatusCode, 202)
		for range holdLimit / memSize {
			p.must(ctx, abi.FuncWriteBody, 1, 0, memSize)
		}
		if !p.g.ex.committed {
			t.Error("not committed after holdLimit bytes")
		}
		p.trap(ctx, abi.FuncSetStatusCode, 500)
		p.trap(ctx, abi.FuncSetHeaderValue, 1, 0, 1, 0, 1)
		p.must(ctx, abi.FuncWriteBody, 1, 0, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.Code != 202 || w.Body.Len() != holdLimit+1 {
		t.Errorf("got %d with %d bytes", w.Code, w.Body.Len())
	}
}

func TestUntouchedResponseIsEmpty200(t *testing.T) {
	p := newProbe(t, &Host{})
	w, err := p.serve(newRequest("GET", "/", ""), func(ctx context.Context) {})
	if err != nil {
		t.Fatal(err)
	}
	if w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("got %d %q", w.Code, w.Body.String())
	}
}

func TestFeatures(t *testing.T) {
	p := newProbe(t, &Host{})
	_, err := p.serve(newRequest("GET", "/", ""), func(ctx context.Context) {
		if got := abi.Features(p.must(ctx, abi.FuncEnableFeatures, uint64(abi.FeatureTrailers|1<<10))); got != abi.FeatureTrailers {
			t.Errorf("enable_features = %v, want only trailers", got)
		}
		if got := abi.Features(p.must(ctx, abi.FuncEnableFeatures, uint64(abi.FeatureBufferRequest))); got != abi.FeatureTrailers|abi.FeatureBufferRequest {
			t.Errorf("enable_features = %v, want both", got)
		}
		p.write(0, []byte("x-t"))
		p.must(ctx, abi.FuncSetHeaderValue, 3, 0, 3, 0, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.serve(newRequest("GET", "/", ""), func(ctx context.Context) {
		if got := abi.Features(p.must(ctx, abi.FuncEnableFeatures, 0)); got != 0 {
			t.Errorf("per-request features leaked into the next request: %v", got)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// captureHandler records log records.
type captureHandler struct {
	mu    sync.Mutex
	level slog.Level
	recs  []slog.Record
}

func (h *captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

func TestLog(t *testing.T) {
	ch := &captureHandler{level: slog.LevelInfo}
	p := newProbe(t, &Host{Logger: slog.New(ch)})
	_, err := p.serve(newRequest("GET", "/", ""), func(ctx context.Context) {
		levels := []struct {
			level int32
			on    uint64
		}{{-1, 0}, {0, 1}, {1, 1}, {2, 1}, {3, 0}}
		for _, l := range levels {
			if got := p.must(ctx, abi.FuncLogEnabled, uint64(uint32(l.level))); got != l.on {
				t.Errorf("log_enabled(%d) = %d, want %d", l.level, got, l.on)
			}
		}
		p.write(0, []byte("guest says hi"))
		p.must(ctx, abi.FuncLog, uint64(0xFFFFFFFF), 0, 13) // debug (-1): filtered
		p.must(ctx, abi.FuncLog, 2, 0, 13)
		p.must(ctx, abi.FuncLog, 1, memSize-1, 100) // never traps
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.recs) != 2 {
		t.Fatalf("got %d records, want 2", len(ch.recs))
	}
	if r := ch.recs[0]; r.Message != "guest says hi" || r.Level != slog.LevelError {
		t.Errorf("record %v %q", r.Level, r.Message)
	}
	if r := ch.recs[1]; !strings.Contains(r.Message, "out of guest memory range") {
		t.Errorf("out-of-range log message = %q", r.Message)
	}
}

// TestOutsideRequest: request functions called from the start function trap
// with a message saying so; logging and features work there.
func TestOutsideRequest(t *testing.T) {
	p := newProbe(t, &Host{})
	ctx := p.g.Context(context.Background())
	p.trap(ctx, abi.FuncGetMethod, 0, 10)
	p.trap(ctx, abi.FuncReadBody, 0, 0, 10)
	if got := abi.Features(p.must(ctx, abi.FuncEnableFeatures, uint64(abi.FeatureBufferResponse))); got != abi.FeatureBufferResponse {
		t.Errorf("module-wide enable_features = %v", got)
	}
	if p.g.Features() != abi.FeatureBufferResponse {
		t.Errorf("guest features = %v", p.g.Features())
	}
}

// TestGuestErrorAfterTrap: a trap that the guest does not survive comes
// back from Handle as a *GuestError carrying the TrapError.
func TestGuestErrorAfterTrap(t *testing.T) {
	p := newProbe(t, &Host{})
	fn := p.mod.ExportedFunction("call_get_method")
	_, err := p.serve(newRequest("GET", "/", ""), func(ctx context.Context) {
		// Trap inside the outer call by letting the panic escape the hook.
		fn.Call(ctx, memSize, 10)
		panic(p.g.ex.trap)
	})
	ge, ok := err.(*GuestError)
	if !ok {
		t.Fatalf("err = %T %v, want *GuestError", err, err)
	}
	if ge.Trap == nil || ge.Trap.Func != abi.FuncGetMethod || ge.Export != abi.ExportHandleRequest || ge.Committed {
		t.Errorf("guest error = %+v", ge)
	}
}
