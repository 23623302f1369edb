package wasihttp

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// fields is the Go value of a fields resource (headers and trailers): its
// entries in order, names in lower case. A fields value is immutable when
// the specification says so: the headers of an incoming request or
// response, and the headers of an outgoing request or response once its
// body was taken or it was sent.
type fields struct {
	entries   []fieldEntry
	immutable bool
}

type fieldEntry struct {
	name  string
	value []byte
}

// forbiddenFields are the header names a guest may not set: hop-by-hop
// headers, which the host's HTTP stack owns, and host, which the
// authority gives. Setting one answers header-error forbidden. The list
// is wasmtime's, so that a guest written against it behaves the same.
var forbiddenFields = map[string]bool{
	"connection":          true,
	"keep-alive":          true,
	"proxy-authenticate":  true,
	"proxy-authorization": true,
	"proxy-connection":    true,
	"transfer-encoding":   true,
	"upgrade":             true,
	"host":                true,
	"http2-settings":      true,
}

// validFieldName reports whether s is an HTTP token (RFC 9110 §5.6.2).
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validFieldValue reports whether b may be a field value: no control
// character but horizontal tab (no CR, LF or NUL above all).
func validFieldValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// checkName returns the header-error case of a name the guest gives, or
// -1 when it may be used.
func checkName(name string) int {
	switch {
	case !validFieldName(name):
		return int(heInvalidSyntax)
	case forbiddenFields[strings.ToLower(name)]:
		return int(heForbidden)
	}
	return -1
}

func headerError(c uint32) cabi.Result { return fail(cabi.Variant{Case: c}) }

// fieldsFromHeader makes immutable fields of h, names in lower case,
// hop-by-hop headers left out (host is kept: it is the request's).
func fieldsFromHeader(h http.Header) *fields {
	f := &fields{immutable: true}
	for name, vs := range h {
		lower := strings.ToLower(name)
		if forbiddenFields[lower] && lower != "host" {
			continue
		}
		for _, v := range vs {
			f.entries = append(f.entries, fieldEntry{name: lower, value: []byte(v)})
		}
	}
	return f
}

// header returns the fields as an http.Header, forbidden names left out.
func (f *fields) header() http.Header {
	h := make(http.Header, len(f.entries))
	f.addTo(h)
	return h
}

// addTo adds the fields to h.
func (f *fields) addTo(h http.Header) {
	for _, e := range f.entries {
		if forbiddenFields[e.name] {
			continue
		}
		k := http.CanonicalHeaderKey(e.name)
		h[k] = append(h[k], string(e.value))
	}
}

func (f *fields) get(name string) []any {
	out := []any{}
	for _, e := range f.entries {
		if e.name == name {
			out = append(out, bytes.Clone(e.value))
		}
	}
	return out
}

func (f *fields) has(name string) bool {
	for _, e := range f.entries {
		if e.name == name {
			return true
		}
	}
	return false
}

func (f *fields) delete(name string) {
	kept := f.entries[:0]
	for _, e := range f.entries {
		if e.name != name {
			kept = append(kept, e)
		}
	}
	clear(f.entries[len(kept):])
	f.entries = kept
}

func (f *fields) clone() *fields {
	c := &fields{entries: make([]fieldEntry, len(f.entries))}
	for i, e := range f.entries {
		c.entries[i] = fieldEntry{name: e.name, value: bytes.Clone(e.value)}
	}
	return c
}

// list is the fields as list<tuple<field-name, field-value>>.
func (f *fields) list() []any {
	out := make([]any, len(f.entries))
	for i, e := range f.entries {
		out[i] = []any{e.name, bytes.Clone(e.value)}
	}
	return out
}

// fieldsFuncs are the functions of the fields resource.
func fieldsFuncs() map[string]*component.HostFunc {
	self := component.Param{Name: "self", Type: borrow(fieldsRes)}
	name := component.Param{Name: "name", Type: fieldNameType}
	headerResult := cabi.ResultOf(nil, headerErrorType)
	return map[string]*component.HostFunc{
		"[constructor]fields": {
			Results: []*cabi.Type{own(fieldsRes)},
			Call: func(context.Context, []any) ([]any, error) {
				return []any{&fields{}}, nil
			},
		},
		"[static]fields.from-list": {
			Params:  []component.Param{{Name: "entries", Type: fieldListType}},
			Results: []*cabi.Type{cabi.ResultOf(own(fieldsRes), headerErrorType)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				f := &fields{}
				for _, e := range args[0].([]any) {
					kv := e.([]any)
					n, v := kv[0].(string), kv[1].([]byte)
					if c := checkName(n); c >= 0 {
						return []any{headerError(uint32(c))}, nil
					}
					if !validFieldValue(v) {
						return []any{headerError(heInvalidSyntax)}, nil
					}
					f.entries = append(f.entries, fieldEntry{name: strings.ToLower(n), value: v})
				}
				return []any{ok(f)}, nil
			},
		},
		"[method]fields.get": {
			Params:  []component.Param{self, name},
			Results: []*cabi.Type{cabi.ListOf(fieldValueType)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{args[0].(*fields).get(strings.ToLower(args[1].(string)))}, nil
			},
		},
		"[method]fields.has": {
			Params:  []component.Param{self, name},
			Results: []*cabi.Type{cabi.BoolType},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{args[0].(*fields).has(strings.ToLower(args[1].(string)))}, nil
			},
		},
		"[method]fields.set": {
			Params:  []component.Param{self, name, {Name: "value", Type: cabi.ListOf(fieldValueType)}},
			Results: []*cabi.Type{headerResult},
			Call: func(_ context.Context, args []any) ([]any, error) {
				f, n := args[0].(*fields), args[1].(string)
				if r, bad := f.checkChange(n); bad {
					return []any{r}, nil
				}
				vs := args[2].([]any)
				for _, v := range vs {
					if !validFieldValue(v.([]byte)) {
						return []any{headerError(heInvalidSyntax)}, nil
					}
				}
				n = strings.ToLower(n)
				f.delete(n)
				for _, v := range vs {
					f.entries = append(f.entries, fieldEntry{name: n, value: v.([]byte)})
				}
				return []any{ok(nil)}, nil
			},
		},
		"[method]fields.delete": {
			Params:  []component.Param{self, name},
			Results: []*cabi.Type{headerResult},
			Call: func(_ context.Context, args []any) ([]any, error) {
				f, n := args[0].(*fields), args[1].(string)
				if r, bad := f.checkChange(n); bad {
					return []any{r}, nil
				}
				f.delete(strings.ToLower(n))
				return []any{ok(nil)}, nil
			},
		},
		"[method]fields.append": {
			Params:  []component.Param{self, name, {Name: "value", Type: fieldValueType}},
			Results: []*cabi.Type{headerResult},
			Call: func(_ context.Context, args []any) ([]any, error) {
				f, n, v := args[0].(*fields), args[1].(string), args[2].([]byte)
				if r, bad := f.checkChange(n); bad {
					return []any{r}, nil
				}
				if !validFieldValue(v) {
					return []any{headerError(heInvalidSyntax)}, nil
				}
				f.entries = append(f.entries, fieldEntry{name: strings.ToLower(n), value: v})
				return []any{ok(nil)}, nil
			},
		},
		"[method]fields.entries": {
			Params:  []component.Param{self},
			Results: []*cabi.Type{fieldListType},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{args[0].(*fields).list()}, nil
			},
		},
		"[method]fields.clone": {
			Params:  []component.Param{self},
			Results: []*cabi.Type{own(fieldsRes)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{args[0].(*fields).clone()}, nil
			},
		},
	}
}

// checkChange returns the error of changing the field name in f, if any:
// immutable first, as the specification orders them, then the name.
func (f *fields) checkChange(name string) (cabi.Result, bool) {
	if f.immutable {
		return headerError(heImmutable), true
	}
	if c := checkName(name); c >= 0 {
		return headerError(uint32(c)), true
	}
	return cabi.Result{}, false
}

// String describes the fields for messages.
func (f *fields) String() string {
	return fmt.Sprintf("fields(%d entries)", len(f.entries))
}
