package httpwasm

import (
	"context"
	"net/http"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmserve/wasmserve/abi"
)

// headersFor returns the header map the kind names. For a write it checks the
// phase first. Trailer kinds are empty until the trailers feature is on.
func (g *Guest) headersFor(fn string, kind abi.HeaderKind, write bool) http.Header {
	ex := &g.ex
	r := g.request(fn)
	switch kind {
	case abi.HeaderKindRequest:
		if write {
			g.requestForWrite(fn)
		}
		return r.Header
	case abi.HeaderKindResponse:
		if write {
			g.responseForWrite(fn)
		}
		return ex.w.Header()
	case abi.HeaderKindRequestTrailers:
		if !ex.features.Has(abi.FeatureTrailers) {
			if write {
				g.trap(fn, "request trailers need the trailers feature (enable_features(%d))", abi.FeatureTrailers)
			}
			return nil
		}
		if write {
			g.requestForWrite(fn)
			if r.Trailer == nil {
				r.Trailer = http.Header{}
			}
		}
		return r.Trailer
	case abi.HeaderKindResponseTrailers:
		if !ex.features.Has(abi.FeatureTrailers) {
			if write {
				g.trap(fn, "response trailers need the trailers feature (enable_features(%d))", abi.FeatureTrailers)
			}
			return nil
		}
		if write {
			if ex.phase != phaseRequest && !ex.buffered {
				g.trap(fn, "the response cannot be changed after next without the buffer_response feature")
			}
			if ex.respTrailer == nil {
				ex.respTrailer = http.Header{}
			}
		}
		return ex.respTrailer
	}
	g.trap(fn, "unknown header kind %d (want 0 to 3)", uint32(kind))
	return nil
}

// hostHeader reports whether kind and name address the request's Host,
// which net/http keeps outside the header map.
func hostHeader(kind abi.HeaderKind, r *http.Request, name []byte) bool {
	return kind == abi.HeaderKindRequest && equalFold(name, "host") && r.Header["Host"] == nil
}

func getHeaderNames(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	kind := abi.HeaderKind(uint32(stack[0]))
	buf, limit := uint32(stack[1]), uint32(stack[2])
	h := g.headersFor(abi.FuncGetHeaderNames, kind, false)
	withHost := kind == abi.HeaderKindRequest && g.ex.r.Host != "" && h["Host"] == nil
	var count, size uint32
	for k := range h {
		count++
		size += uint32(len(k)) + 1
	}
	if withHost {
		count++
		size += uint32(len("host")) + 1
	}
	stack[0] = abi.EncodeCountLen(count, size)
	if size > limit || size == 0 {
		return
	}
	b := g.view(abi.FuncGetHeaderNames, buf, size)
	i := 0
	if withHost {
		i += copy(b, "host\x00")
	}
	for k := range h {
		i += copyLower(b[i:], k)
		b[i] = 0
		i++
	}
}

func getHeaderValues(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	kind := abi.HeaderKind(uint32(stack[0]))
	h := g.headersFor(abi.FuncGetHeaderValues, kind, false)
	name := g.view(abi.FuncGetHeaderValues, uint32(stack[1]), uint32(stack[2]))
	buf, limit := uint32(stack[3]), uint32(stack[4])
	if len(name) == 0 {
		g.trap(abi.FuncGetHeaderValues, "empty header name")
	}
	if hostHeader(kind, g.ex.r, name) {
		host := g.ex.r.Host
		if host == "" {
			stack[0] = 0
			return
		}
		n := uint32(len(host)) + 1
		stack[0] = abi.EncodeCountLen(1, n)
		if n <= limit {
			b := g.view(abi.FuncGetHeaderValues, buf, n)
			b[copy(b, host)] = 0
		}
		return
	}
	vs := h[string(g.lookupKey(name))]
	var count, size uint32
	for _, v := range vs {
		count++
		size += uint32(len(v)) + 1
	}
	stack[0] = abi.EncodeCountLen(count, size)
	if size > limit || size == 0 {
		return
	}
	b := g.view(abi.FuncGetHeaderValues, buf, size)
	i := 0
	for _, v := range vs {
		i += copy(b[i:], v)
		b[i] = 0
		i++
	}
}

// headerArgs reads and validates the name (and value, when withValue) of a
// header write.
func (g *Guest) headerArgs(fn string, stack []uint64, withValue bool) (abi.HeaderKind, http.Header, []byte, string) {
	kind := abi.HeaderKind(uint32(stack[0]))
	h := g.headersFor(fn, kind, true)
	name := g.view(fn, uint32(stack[1]), uint32(stack[2]))
	if len(name) == 0 || !isToken(name) {
		g.trap(fn, "invalid header name %q", name)
	}
	var value string
	if withValue {
		v := g.view(fn, uint32(stack[3]), uint32(stack[4]))
		if !validHeaderValue(v) {
			g.trap(fn, "invalid value for header %q: control characters are not allowed", name)
		}
		value = g.headerValue(v)
		if kind == abi.HeaderKindResponse || kind == abi.HeaderKindResponseTrailers {
			g.ex.respHeaderBytes += len(name) + len(v)
			if max := g.host.maxResponseHeaderBytes(); g.ex.respHeaderBytes > max {
				g.trap(fn, "the response headers and trailers the guest set exceed %d bytes", max)
			}
		}
	}
	return kind, h, name, value
}

func setHeaderValue(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	kind, h, name, value := g.headerArgs(abi.FuncSetHeaderValue, stack, true)
	if kind == abi.HeaderKindRequest && equalFold(name, "host") {
		g.ex.r.Host = value
		delete(h, "Host")
		return
	}
	// The canonical key replaces whatever the map held under it (the
	// map's keys are all canonical: see lookupKey).
	k := g.headerName(name)
	g.noteFraming(kind, k)
	h[k] = []string{value}
}

// noteFraming marks the exchange's response header as holding a key
// cleanFraming must see, when the guest sets one.
func (g *Guest) noteFraming(kind abi.HeaderKind, k string) {
	if kind == abi.HeaderKindResponse && isFramingKey(k) {
		g.ex.framing = true
	}
}

func addHeaderValue(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	kind, h, name, value := g.headerArgs(abi.FuncAddHeaderValue, stack, true)
	if hostHeader(kind, g.ex.r, name) && g.ex.r.Host == "" {
		g.ex.r.Host = value
		return
	}
	lk := g.lookupKey(name)
	if vs, ok := h[string(lk)]; ok {
		h[string(lk)] = append(vs, value)
		return
	}
	k := g.headerName(name)
	g.noteFraming(kind, k)
	h[k] = []string{value}
}

func removeHeader(ctx context.Context, _ api.Module, stack []uint64) {
	g := guestOf(ctx)
	kind, h, name, _ := g.headerArgs(abi.FuncRemoveHeader, stack, false)
	if hostHeader(kind, g.ex.r, name) {
		g.ex.r.Host = ""
		return
	}
	delete(h, string(g.lookupKey(name)))
}

// lookupKey returns the canonical form of the header name b (what
// http.CanonicalHeaderKey gives) in a scratch buffer of g, valid until the
// next call, so that a lookup costs one map access and no allocation. Every
// key of the header maps a guest sees is canonical: net/http canonicalizes
// what clients and upstreams send, and headerName what the guest sets. A
// scan comparing every key with equalFold instead made a request with 10 000
// headers cost a Go guest seconds (see RATIONALE.md).
func (g *Guest) lookupKey(b []byte) []byte {
	k := append(g.keyBuf[:0], b...)
	g.keyBuf = k
	if !isToken(k) {
		return k // CanonicalHeaderKey leaves such names alone
	}
	upper := true
	for i, c := range k {
		switch {
		case upper && 'a' <= c && c <= 'z':
			k[i] = c - 'a' + 'A'
		case !upper && 'A' <= c && c <= 'Z':
			k[i] = c + 'a' - 'A'
		}
		upper = c == '-'
	}
	return k
}

// equalFold reports whether b and s are equal under ASCII case folding,
// without allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// copyLower copies s into b in lower case and returns the count copied.
func copyLower(b []byte, s string) int {
	n := copy(b, s)
	for i := 0; i < n; i++ {
		b[i] = lower(b[i])
	}
	return n
}

// isToken reports whether b is an RFC 9110 token: the syntax of methods and
// header names.
func isToken(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// validHeaderValue reports whether v holds no control character other than
// horizontal tab, so that a guest cannot split a header or a response.
func validHeaderValue(v []byte) bool {
	for _, c := range v {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
