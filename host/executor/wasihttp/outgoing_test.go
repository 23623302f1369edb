package wasihttp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/ext/outbound"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

// policy returns the outgoing handler on the real policy of package
// outbound with cfg.
func policy(t *testing.T, cfg outbound.Config) (*outgoing, *outbound.Extension) {
	t.Helper()
	e, err := outbound.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return &outgoing{h: e.Host()}, e
}

// request is an outgoing-request to rawURL's parts.
func request(method, scheme, authority, path string) *outgoingRequest {
	return &outgoingRequest{method: method, scheme: &scheme, authority: &authority, pathWithQuery: &path, headers: &fields{}}
}

// wait returns what the future of a call resolves to: the response or
// the error-code.
func wait(t *testing.T, r cabi.Result) (*incomingResponse, *errorCode) {
	t.Helper()
	if r.Err {
		ec := r.Value.(errorCode)
		return nil, &ec
	}
	c := r.Value.(*outgoingCall)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end")
	}
	got := c.get()
	if !got.Some {
		t.Fatal("get is none after the call ended")
	}
	res := got.Value.(cabi.Result)
	if res.Err {
		t.Fatal("get: taken twice")
	}
	inner := res.Value.(cabi.Result)
	if again := c.get(); !again.Some || !again.Value.(cabi.Result).Err {
		t.Errorf("a second get = %+v, want some(err)", again)
	}
	if inner.Err {
		ec := inner.Value.(errorCode)
		return nil, &ec
	}
	return inner.Value.(*incomingResponse), nil
}

func caseName(ec *errorCode) string {
	if ec == nil {
		return "none"
	}
	return errorCodeType.Cases[ec.Case].Name
}

func TestOutgoingPolicy(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen", r.Header.Get("X-Sent"))
		w.Header().Set("Trailer", "X-Sum")
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.RequestURI())
		w.Header().Set("X-Sum", "42")
	}))
	defer upstream.Close()
	host := strings.TrimPrefix(upstream.URL, "http://")
	o, ext := policy(t, outbound.Config{Allow: []string{upstream.URL}})

	tests := []struct {
		name    string
		req     *outgoingRequest
		code    string // the error-code's case; "none" for a response
		refused uint64
	}{
		{"allowed origin", request("GET", "http", host, "/a?b=c"), "none", 0},
		{"another port", request("GET", "http", "127.0.0.1:1", "/"), "HTTP-request-denied", 1},
		{"metadata address", request("GET", "http", "169.254.169.254", "/latest/meta-data/"), "HTTP-request-denied", 1},
		{"https to the same host", request("GET", "https", host, "/"), "HTTP-request-denied", 1},
		{"no authority", &outgoingRequest{method: "GET", headers: &fields{}}, "HTTP-request-URI-invalid", 0},
		{"unknown scheme", request("GET", "ftp", host, "/"), "HTTP-protocol-error", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.headers.entries = []fieldEntry{{name: "x-sent", value: []byte("hi")}}
			before := ext.Stats().Refused
			resp, ec := wait(t, o.handle(context.Background(), nil, tt.req, nil))
			if got := caseName(ec); got != tt.code {
				t.Fatalf("error-code %s, want %s", got, tt.code)
			}
			if n := ext.Stats().Refused - before; n != tt.refused {
				t.Errorf("refused %d, want %d", n, tt.refused)
			}
			if resp == nil {
				return
			}
			if resp.resp.StatusCode != 200 || resp.headers.get("x-seen")[0].([]byte)[0] != 'h' {
				t.Errorf("status %d, headers %v", resp.resp.StatusCode, resp.headers.entries)
			}
			if !resp.headers.immutable {
				t.Error("the response's headers are mutable")
			}
			b, err := io.ReadAll(resp.body)
			if err != nil || string(b) != "GET /a?b=c" {
				t.Errorf("body %q, %v", b, err)
			}
			tr := (&futureTrailers{body: resp.body}).get()
			tf := tr.Value.(cabi.Result).Value.(cabi.Result).Value.(cabi.Option)
			if !tf.Some || string(tf.Value.(*fields).get("x-sum")[0].([]byte)) != "42" {
				t.Errorf("trailers %+v", tr)
			}
		})
	}
}

func TestOutgoingLimits(t *testing.T) {
	slow := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			select {
			case <-slow:
			case <-r.Context().Done():
			}
		case "/big":
			w.Header().Set("Content-Length", "5000")
			w.Write(make([]byte, 5000))
		case "/chunked":
			w.Write(make([]byte, 3000))
			w.(http.Flusher).Flush()
			w.Write(make([]byte, 3000))
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			w.Write(b)
		case "/duplex":
			http.NewResponseController(w).EnableFullDuplex()
			br := bufio.NewReader(r.Body)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				io.WriteString(w, line)
				w.(http.Flusher).Flush()
			}
		}
	}))
	defer upstream.Close()
	defer close(slow)
	host := strings.TrimPrefix(upstream.URL, "http://")
	o, _ := policy(t, outbound.Config{Allow: []string{upstream.URL}, MaxResponseBody: 4000, MaxCallsPerRequest: 5})

	t.Run("first-byte timeout", func(t *testing.T) {
		d := uint64(50 * time.Millisecond)
		_, ec := wait(t, o.handle(context.Background(), nil, request("GET", "http", host, "/slow"), &requestOptions{firstByte: &d}))
		if got := caseName(ec); got != "HTTP-response-timeout" {
			t.Errorf("error-code %s", got)
		}
	})
	t.Run("declared body over the limit", func(t *testing.T) {
		_, ec := wait(t, o.handle(context.Background(), nil, request("GET", "http", host, "/big"), nil))
		if got := caseName(ec); got != "HTTP-response-body-size" {
			t.Errorf("error-code %s", got)
		}
	})
	t.Run("streamed body over the limit", func(t *testing.T) {
		resp, ec := wait(t, o.handle(context.Background(), nil, request("GET", "http", host, "/chunked"), nil))
		if ec != nil {
			t.Fatal(caseName(ec))
		}
		_, err := io.ReadAll(resp.body)
		var ce *codeError
		if !errors.As(err, &ce) || errorCodeType.Cases[ce.code.Case].Name != "HTTP-response-body-size" {
			t.Errorf("reading: %v", err)
		}
	})
	t.Run("request body through the pipe", func(t *testing.T) {
		r := request("POST", "http", host, "/echo")
		r.body = &outgoingBody{pipe: newPipe()}
		fut := o.handle(context.Background(), nil, r, nil)
		s := pipeStream{r.body.pipe}
		for i := 0; i < 10; i++ {
			if n, err := s.CheckWrite(); err != nil || n == 0 {
				t.Fatalf("check-write %d, %v", n, err)
			}
			if err := s.Write([]byte(strings.Repeat("x", 1000))); err != nil {
				t.Fatal(err)
			}
		}
		r.body.pipe.finish(nil)
		resp, ec := wait(t, fut)
		if ec != nil {
			t.Fatal(caseName(ec))
		}
		// The echo is over the 4000-byte response limit: read what fits.
		b, err := io.ReadAll(resp.body)
		if len(b) != 4000 {
			t.Errorf("read %d bytes: %v", len(b), err)
		}
	})
	t.Run("request and response bodies interleaved", func(t *testing.T) {
		// The upstream echoes each line as it reads it: the guest must
		// read the response while it still writes the request.
		r := request("POST", "http", host, "/duplex")
		r.body = &outgoingBody{pipe: newPipe()}
		fut := o.handle(context.Background(), nil, r, nil)
		out := pipeStream{r.body.pipe}
		if err := out.Write([]byte("line 0\n")); err != nil {
			t.Fatal(err)
		}
		resp, ec := wait(t, fut)
		if ec != nil {
			t.Fatal(caseName(ec))
		}
		in := call(t, incomingFuncs(), "[method]incoming-body.stream", resp.body).(cabi.Result).Value.(wasip2.InputStream)
		defer in.Close()
		ctx := context.Background()
		var got strings.Builder
		for i := 1; i <= 3; i++ {
			// Read the echo of the last line, then write the next.
			for !strings.HasSuffix(got.String(), "\n") {
				if err := wasip2.Wait(ctx, in.Subscribe()); err != nil {
					t.Fatal(err)
				}
				b, err := in.Read(100)
				if err != nil {
					t.Fatalf("reading: %v", err)
				}
				got.Write(b)
			}
			// Nothing more comes before the next line: the guest can
			// wait on the body beside its other pollables.
			if in.Subscribe().Ready() {
				t.Error("the response body is ready with nothing to read")
			}
			if i < 3 {
				if err := out.Write([]byte(fmt.Sprintf("line %d\n", i))); err != nil {
					t.Fatal(err)
				}
			} else {
				r.body.pipe.finish(nil)
			}
			if i < 3 {
				got.WriteString("|")
			}
		}
		if got.String() != "line 0\n|line 1\n|line 2\n" {
			t.Errorf("echoed %q", got.String())
		}
	})
	t.Run("calls per request", func(t *testing.T) {
		st := &State{ID: "t"}
		var codes []string
		for range 7 {
			r := o.handle(context.Background(), st, request("GET", "http", "127.0.0.1:1", "/"), nil)
			if r.Err {
				codes = append(codes, caseName(new(r.Value.(errorCode))))
			} else {
				codes = append(codes, "sent")
			}
		}
		want := "sent sent sent sent sent connection-limit-reached connection-limit-reached"
		if got := strings.Join(codes, " "); got != want {
			t.Errorf("calls: %s, want %s", got, want)
		}
		st.end()
		if st.calls != 0 || len(st.open) != 0 {
			t.Errorf("end left %d calls, %d open", st.calls, len(st.open))
		}
	})
}

func TestErrorCodeOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"refused", fmt.Errorf("GET x: %w: no pattern", outbound.ErrRefused), "HTTP-request-denied"},
		{"too big", outbound.ErrTooBig, "HTTP-response-body-size"},
		{"dns not found", &net.DNSError{Err: "no such host", Name: "x.test", IsNotFound: true}, "DNS-error"},
		{"dns timeout", &net.DNSError{Err: "timeout", Name: "x.test", IsTimeout: true}, "DNS-timeout"},
		{"refused connection", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, "connection-refused"},
		{"reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, "connection-terminated"},
		{"cut short", io.ErrUnexpectedEOF, "connection-terminated"},
		{"deadline", context.DeadlineExceeded, "HTTP-response-timeout"},
		{"head timeout", fmt.Errorf("x: %w", errHeadTimeout), "HTTP-response-timeout"},
		{"carried", &codeError{code: errorCode{Case: ecLoopDetected}, err: errors.New("x")}, "loop-detected"},
		{"other", errors.New("something else"), "internal-error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ec := errorCodeOf(tt.err)
			if got := caseName(&ec); got != tt.want {
				t.Errorf("errorCodeOf(%v) = %s, want %s", tt.err, got, tt.want)
			}
			// Every value must lower as the WIT type says.
			if err := checkValue(errorCodeType, ec); err != nil {
				t.Errorf("the error-code does not fit its type: %v", err)
			}
		})
	}
}

// sliceMemory is a guest memory for lowering values in tests.
type sliceMemory struct{ b []byte }

func (m *sliceMemory) Size() uint32 { return uint32(len(m.b)) }

func (m *sliceMemory) Read(off, n uint32) ([]byte, bool) {
	if uint64(off)+uint64(n) > uint64(len(m.b)) {
		return nil, false
	}
	return m.b[off : off+n], true
}

// checkValue lowers v as a value of t into a scratch memory: an error
// says v does not have the Go shape package cabi wants for t.
func checkValue(t *cabi.Type, v any) error {
	mem := &sliceMemory{b: make([]byte, 1<<16)}
	next := uint32(1024)
	c := &cabi.Call{Ctx: context.Background(), Opts: &cabi.Options{
		Memory: mem,
		Realloc: func(_ context.Context, _, _, align, size uint32) (uint32, error) {
			p := (next + align - 1) &^ (align - 1)
			next = p + size
			return p, nil
		},
	}}
	return cabi.Store(c, t, v, 0)
}
