package wasihttp

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// call runs the host function name of funcs with args.
func call(t *testing.T, funcs map[string]*component.HostFunc, name string, args ...any) any {
	t.Helper()
	f := funcs[name]
	if f == nil {
		t.Fatalf("no function %s", name)
	}
	out, err := f.Call(context.Background(), args)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(out) == 0 {
		return nil
	}
	return out[0]
}

func TestResponseBody(t *testing.T) {
	rf := responseFuncs()
	tests := []struct {
		name    string
		method  string
		headers []fieldEntry
		early   string // written before the outparam is set
		late    string // written after
		finish  string // the error-code case of finish, "" for ok
		body    string
		status  int
		trailer *fields
	}{
		{"early and late writes in order", "GET", nil, "early,", "late", "", "early,late", 200, nil},
		{"content-length kept", "GET", []fieldEntry{{"content-length", []byte("4")}}, "", "four", "", "four", 200, nil},
		{"content-length short", "GET", []fieldEntry{{"content-length", []byte("10")}}, "", "four", "HTTP-response-body-size", "four", 200, nil},
		{"head sends no body", "HEAD", nil, "", "hidden", "", "", 200, nil},
		{"trailers, forbidden ones left out", "GET", nil, "", "x", "", "x", 200,
			&fields{entries: []fieldEntry{{"x-sum", []byte("1")}, {"connection", []byte("close")}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			o := &outparam{w: rec, noBody: tt.method == "HEAD", declared: -1}
			resp := call(t, rf, "[constructor]outgoing-response", &fields{entries: tt.headers}).(*outgoingResponse)
			if r := call(t, rf, "[method]outgoing-response.set-status-code", resp, uint16(99)).(cabi.Result); !r.Err {
				t.Error("status 99 was accepted")
			}
			body := call(t, rf, "[method]outgoing-response.body", resp).(cabi.Result).Value.(*outgoingBody)
			if r := call(t, rf, "[method]outgoing-response.body", resp).(cabi.Result); !r.Err {
				t.Error("the body was taken twice")
			}
			s := call(t, rf, "[method]outgoing-body.write", body).(cabi.Result).Value.(*responseStream)
			if tt.early != "" {
				if err := s.Write([]byte(tt.early)); err != nil {
					t.Fatal(err)
				}
				if rec.Code != 200 || rec.Body.Len() != 0 || o.committed {
					t.Fatal("an early write reached the client")
				}
			}
			call(t, rf, "[static]response-outparam.set", o, ok(resp))
			if !o.committed {
				t.Error("setting the outparam did not write the status")
			}
			if r := call(t, rf, "[method]outgoing-response.set-status-code", resp, uint16(201)).(cabi.Result); !r.Err {
				t.Error("the status changed after it was sent")
			}
			if err := s.Write([]byte(tt.late)); err != nil {
				t.Fatal(err)
			}
			var tr cabi.Option
			if tt.trailer != nil {
				tr = some(tt.trailer)
			}
			res := call(t, rf, "[static]outgoing-body.finish", body, tr).(cabi.Result)
			if got := ""; res.Err {
				ec := res.Value.(errorCode)
				if got = caseName(&ec); got != tt.finish {
					t.Errorf("finish: %s, want %q", got, tt.finish)
				}
			} else if tt.finish != "" {
				t.Errorf("finish ok, want %s", tt.finish)
			}
			if rec.Body.String() != tt.body || rec.Code != tt.status {
				t.Errorf("response %d %q, want %d %q", rec.Code, rec.Body.String(), tt.status, tt.body)
			}
			if tt.trailer != nil {
				h := rec.Result().Trailer
				if h.Get("X-Sum") != "1" || h.Get("Connection") != "" {
					t.Errorf("trailers %v", h)
				}
			}
		})
	}
}

func TestResponseEarlyLimit(t *testing.T) {
	r := &outgoingResponse{status: 200, headers: &fields{}}
	r.body = &outgoingBody{resp: r}
	s := &responseStream{r: r}
	written := 0
	for {
		n, err := s.CheckWrite()
		if err != nil {
			if !errors.Is(err, errEarlyBody) {
				t.Fatalf("check-write: %v", err)
			}
			break
		}
		if err := s.Write(make([]byte, n)); err != nil {
			t.Fatal(err)
		}
		written += int(n)
	}
	if written != earlyLimit {
		t.Errorf("wrote %d bytes before the limit, want %d", written, earlyLimit)
	}
}

func TestFields(t *testing.T) {
	ff := fieldsFuncs()
	f := call(t, ff, "[constructor]fields").(*fields)
	for _, kv := range [][2]string{{"X-A", "1"}, {"x-b", "2"}, {"x-a", "3"}} {
		if r := call(t, ff, "[method]fields.append", f, kv[0], []byte(kv[1])).(cabi.Result); r.Err {
			t.Fatalf("append %s: %v", kv[0], r.Value)
		}
	}
	entries := func(f *fields) string {
		var b strings.Builder
		for _, e := range call(t, ff, "[method]fields.entries", f).([]any) {
			kv := e.([]any)
			b.WriteString(kv[0].(string) + "=" + string(kv[1].([]byte)) + " ")
		}
		return b.String()
	}
	if got := entries(f); got != "x-a=1 x-b=2 x-a=3 " {
		t.Errorf("entries %q: names in lower case, in order", got)
	}
	if got := call(t, ff, "[method]fields.get", f, "X-a").([]any); len(got) != 2 || string(got[1].([]byte)) != "3" {
		t.Errorf("get X-a = %v", got)
	}
	c := call(t, ff, "[method]fields.clone", f).(*fields)
	call(t, ff, "[method]fields.set", c, "x-a", []any{[]byte("9")})
	if got := entries(c); got != "x-b=2 x-a=9 " {
		t.Errorf("clone after set: %q", got)
	}
	if got := entries(f); got != "x-a=1 x-b=2 x-a=3 " {
		t.Errorf("the clone shares with its original: %q", got)
	}
	call(t, ff, "[method]fields.delete", f, "X-A")
	if call(t, ff, "[method]fields.has", f, "x-a").(bool) {
		t.Error("delete left x-a")
	}
	f.immutable = true
	c2 := call(t, ff, "[method]fields.clone", f).(*fields)
	if r := call(t, ff, "[method]fields.append", c2, "x-c", []byte("1")).(cabi.Result); r.Err {
		t.Error("a clone of immutable fields is immutable")
	}
	tests := []struct {
		name  string
		fn    string
		args  []any
		want  uint32
		fresh bool // on mutable fields
	}{
		{"set on immutable", "[method]fields.set", []any{"x-b", []any{[]byte("1")}}, heImmutable, false},
		{"forbidden set", "[method]fields.set", []any{"Transfer-Encoding", []any{[]byte("chunked")}}, heForbidden, true},
		{"bad value in a list", "[method]fields.set", []any{"x-b", []any{[]byte("ok"), []byte("a\rb")}}, heInvalidSyntax, true},
		{"empty name", "[method]fields.append", []any{"", []byte("1")}, heInvalidSyntax, true},
		{"forbidden upgrade", "[method]fields.append", []any{"upgrade", []byte("h2c")}, heForbidden, true},
		{"forbidden host", "[method]fields.append", []any{"Host", []byte("example.com")}, heForbidden, true},
		{"forbidden in from-list", "[static]fields.from-list", nil, heForbidden, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r cabi.Result
			if tt.fn == "[static]fields.from-list" {
				r = call(t, ff, tt.fn, []any{[]any{"x-a", []byte("1")}, []any{"keep-alive", []byte("1")}}).(cabi.Result)
			} else {
				target := f
				if tt.fresh {
					target = &fields{}
				}
				r = call(t, ff, tt.fn, append([]any{target}, tt.args...)...).(cabi.Result)
			}
			if !r.Err || r.Value.(cabi.Variant).Case != tt.want {
				t.Errorf("%s = %+v, want header-error %s", tt.fn, r, headerErrorType.Cases[tt.want].Name)
			}
		})
	}
}
