package httpwasm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/wasmserve/wasmserve/abi"
)

// serveNext makes the probe return next=1 from handle_request after running
// req, and run resp in handle_response with is_error stashed in isError.
func (p *probe) serveNext(r *http.Request, req, resp func(ctx context.Context)) (*httptest.ResponseRecorder, error) {
	p.t.Helper()
	calls := 0
	return p.serve(r, func(ctx context.Context) {
		calls++
		if calls == 1 {
			if req != nil {
				req(ctx)
			}
			p.mod.ExportedFunction("set_result").Call(ctx, abi.EncodeHandleRequest(9, true))
			return
		}
		if resp != nil {
			resp(ctx)
		}
	})
}

// TestHandleResponseIsError checks handle_response's arguments after a
// next handler that succeeds, reports a failure, or panics.
func TestHandleResponseIsError(t *testing.T) {
	tests := []struct {
		name       string
		next       http.HandlerFunc
		wantStatus int
		wantError  bool
	}{
		{"next succeeds", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, 204, false},
		{"next reports an error", func(w http.ResponseWriter, r *http.Request) {
			ReportNextError(w, errors.New("dial tcp: refused"))
			w.WriteHeader(http.StatusBadGateway)
		}, 502, true},
		{"next panics before writing", func(w http.ResponseWriter, r *http.Request) { panic("boom") }, 502, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &Host{Next: tc.next}
			p := newProbe(t, h)
			var gotCtx, gotErr uint32
			w, err := p.serveNext(newRequest("GET", "/", ""), nil, func(ctx context.Context) {
				gotCtx = uint32(p.mod.ExportedGlobal("resp_ctx").Get())
				gotErr = uint32(p.mod.ExportedGlobal("resp_err").Get())
				if got := p.must(ctx, abi.FuncGetStatusCode); int(got) != tc.wantStatus {
					t.Errorf("get_status_code after next = %d, want %d", got, tc.wantStatus)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if gotCtx != 9 || (gotErr == 1) != tc.wantError {
				t.Errorf("handle_response(%d, %d), want (9, is_error=%v)", gotCtx, gotErr, tc.wantError)
			}
			if w.Code != tc.wantStatus {
				t.Errorf("client got %d, want %d", w.Code, tc.wantStatus)
			}
			// The isolate serves the next request normally.
			if _, err := p.serve(newRequest("GET", "/", ""), func(context.Context) {}); err != nil {
				t.Errorf("isolate unusable after: %v", err)
			}
		})
	}
}

func TestPhaseRulesAfterNext(t *testing.T) {
	h := &Host{Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-T")
		w.Header().Set("X-Up", "1")
		w.WriteHeader(203)
		io.WriteString(w, "upstream body")
		w.Header().Set("X-T", "tv")
	})}
	p := newProbe(t, h)
	w, err := p.serveNext(newRequest("POST", "/", "request body"), func(ctx context.Context) {
		p.must(ctx, abi.FuncEnableFeatures, uint64(abi.FeatureTrailers))
	}, func(ctx context.Context) {
		p.write(0, []byte("x-up"))
		p.write(16, []byte("x-t"))
		// Reads reflect what the upstream sent.
		if got := p.must(ctx, abi.FuncGetStatusCode); got != 203 {
			t.Errorf("status %d, want 203", got)
		}
		if got := p.must(ctx, abi.FuncGetHeaderValues, 1, 0, 4, 100, 100); string(p.read(100, uint32(got))) != "1\x00" {
			t.Errorf("x-up = %q", p.read(100, uint32(got)))
		}
		if got := p.must(ctx, abi.FuncGetHeaderValues, 3, 16, 3, 100, 100); string(p.read(100, uint32(got))) != "tv\x00" {
			t.Errorf("response trailer x-t = %q, want tv", p.read(100, uint32(got)))
		}
		// Bodies are not available: EOF.
		for _, kind := range []uint64{0, 1} {
			if eof, n := abi.DecodeEOFLen(p.must(ctx, abi.FuncReadBody, kind, 200, 100)); !eof || n != 0 {
				t.Errorf("read_body(%d) = eof %v, %d bytes; want EOF", kind, eof, n)
			}
		}
		// Changes trap, naming the rule.
		te := p.trap(ctx, abi.FuncSetHeaderValue, 1, 0, 4, 0, 1)
		if !strings.Contains(te.Reason, "buffer_response") {
			t.Errorf("trap reason %q does not name buffer_response", te.Reason)
		}
		p.trap(ctx, abi.FuncSetHeaderValue, 3, 16, 3, 0, 1)
		p.trap(ctx, abi.FuncWriteBody, 1, 0, 1)
		p.trap(ctx, abi.FuncSetStatusCode, 200)
		te = p.trap(ctx, abi.FuncSetHeaderValue, 0, 0, 4, 0, 1)
		if !strings.Contains(te.Reason, "after next") {
			t.Errorf("trap reason %q does not say after next", te.Reason)
		}
		p.trap(ctx, abi.FuncSetURI, 0, 1)
		p.trap(ctx, abi.FuncWriteBody, 0, 0, 1)
	})
	if err != nil {
		t.Fatal(err) // the probe's calls caught their traps
	}
	if w.Code != 203 || w.Body.String() != "upstream body" {
		t.Errorf("client got %d %q, want the upstream's response untouched", w.Code, w.Body.String())
	}
}

func TestBufferResponseInHandleResponse(t *testing.T) {
	h := &Host{Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.Header().Set("X-Up", "1")
		w.WriteHeader(200)
		io.WriteString(w, "hello")
	})}
	p := newProbe(t, h)
	w, err := p.serveNext(newRequest("GET", "/", ""), func(ctx context.Context) {
		p.must(ctx, abi.FuncEnableFeatures, uint64(abi.FeatureBufferResponse|abi.FeatureTrailers))
	}, func(ctx context.Context) {
		// The body reads back in pieces, then EOF.
		var got []byte
		for i := 0; i < 10; i++ {
			eof, n := abi.DecodeEOFLen(p.must(ctx, abi.FuncReadBody, 1, 100, 2))
			got = append(got, p.read(100, n)...)
			if eof {
				break
			}
		}
		if string(got) != "hello" {
			t.Errorf("guest read %q", got)
		}
		p.write(0, []byte("x-upHELLO, WORLDx-t"))
		p.must(ctx, abi.FuncSetStatusCode, 299)
		p.must(ctx, abi.FuncRemoveHeader, 1, 0, 4)
		p.must(ctx, abi.FuncWriteBody, 1, 4, 5) // replaces
		p.must(ctx, abi.FuncWriteBody, 1, 9, 7) // appends
		p.must(ctx, abi.FuncSetHeaderValue, 3, 16, 3, 4, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.Code != 299 || w.Body.String() != "HELLO, WORLD" || w.Header().Get("X-Up") != "" {
		t.Errorf("got %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	if got := w.Result().Trailer.Get("X-T"); got != "H" {
		t.Errorf("trailer x-t = %q, want H", got)
	}
}

func TestBufferRequestTeesWhatWasRead(t *testing.T) {
	var upstream string
	h := &Host{Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		upstream = string(b)
	})}
	p := newProbe(t, h)
	tests := []struct {
		name     string
		features abi.Features
		reads    int
		want     string
	}{
		{"buffer_request, partial read", abi.FeatureBufferRequest, 2, "0123456789abcdef"},
		{"buffer_request, read to EOF", abi.FeatureBufferRequest, 100, "0123456789abcdef"},
		{"without buffer_request the read part is consumed", 0, 2, "23456789abcdef"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest("POST", "/", "")
			r.Body = io.NopCloser(iotest.OneByteReader(strings.NewReader("0123456789abcdef")))
			upstream = ""
			_, err := p.serveNext(r, func(ctx context.Context) {
				p.must(ctx, abi.FuncEnableFeatures, uint64(tc.features))
				for i := 0; i < tc.reads; i++ {
					if eof, _ := abi.DecodeEOFLen(p.must(ctx, abi.FuncReadBody, 0, 100, 4)); eof {
						break
					}
				}
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if upstream != tc.want {
				t.Errorf("next read %q, want %q", upstream, tc.want)
			}
		})
	}
}

// TestNoAllocationsWithFeaturesOff keeps the hot path free of allocations:
// a request through the ABI, with next, allocates nothing in the host
// functions.
func TestNoAllocationsWithFeaturesOff(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counting")
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	p := newProbe(t, &Host{Next: next})
	r := newRequest("GET", "/", "")
	w := httptest.NewRecorder()
	result := abi.EncodeHandleRequest(1, true)
	p.mod.ExportedFunction("set_result").Call(context.Background(), result)
	p.g.Handle(context.Background(), w, r) // warm up
	allocs := testing.AllocsPerRun(100, func() {
		if err := p.g.Handle(context.Background(), w, r); err != nil {
			t.Fatal(err)
		}
	})
	// The probe's test hook, a reflective wazero host function, costs one
	// allocation per guest call (handle_request and handle_response);
	// anything above that would be the host functions'.
	if allocs > 2 {
		t.Errorf("a request with next allocates %v times, want only the probe hook's 2", allocs)
	}
}
