//go:build wasip1

package guest

import (
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/wasmserve/wasmserve/abi"
)

// slot is what an instance reuses from one request to the next, as it
// serves one at a time: the request, its URL, header map, context and
// body, and the ResponseWriter with its header map. Allocation is what a
// request costs most in a wasm guest. The price is the rule doc.go states:
// a handler must not keep these after it returns.
type slot struct {
	r    http.Request
	u    url.URL
	ctx  requestContext
	zero *http.Request // a zero request whose context is &ctx
	hdr  http.Header
	body requestBody
	w    responseWriter
	whdr http.Header
}

var reqSlot slot

// buildRequest reads the current request from the host into an
// *http.Request whose Body streams from the host on demand, and returns the
// request's context, to be cancelled when the handler is done. The request
// is reqSlot's, reset.
func buildRequest() (*http.Request, *requestContext, error) {
	// Each value is copied out of scratch before the next host read reuses
	// it, hence one statement per value: in a composite literal, Go may
	// evaluate conversions such as string(b) after all the calls.
	sl := &reqSlot
	if sl.zero == nil {
		sl.zero = new(http.Request).WithContext(&sl.ctx)
		sl.hdr = make(http.Header, 8)
	}
	sl.ctx.reset()
	r := &sl.r
	*r = *sl.zero        // every field zero, unexported ones too, and the context ours
	if len(sl.hdr) > 0 { // clearing an empty map still costs a call
		clear(sl.hdr)
	}
	r.Method = method(readHostValue(&scratch, getMethod))
	cl, hasTE := readRequestStrings(r, sl.hdr)
	if r.Method == "" {
		r.Method = http.MethodGet
	}

	var ok bool
	r.Proto, ok = proto(readHostValue(&scratch, getProtocolVersion))
	if !ok {
		return nil, nil, errors.New("malformed HTTP version")
	}
	if r.ProtoMajor, r.ProtoMinor, ok = http.ParseHTTPVersion(r.Proto); !ok {
		return nil, nil, errors.New("malformed HTTP version " + strconv.Quote(r.Proto))
	}

	sl.u = url.URL{}
	u, err := parseRequestURI(r.RequestURI, &sl.u)
	if err != nil {
		return nil, nil, err
	}
	r.URL = u

	// Like net/http's server, readRequestStrings promoted Host to
	// Request.Host and left it out of the header map.
	if r.Host == "" {
		r.Host = u.Host
	}

	r.ContentLength = -1
	if len(cl) > 0 {
		n, err := strconv.ParseInt(strings.TrimSpace(cl[0]), 10, 64)
		if err != nil || n < 0 {
			return nil, nil, errors.New("bad Content-Length " + strconv.Quote(cl[0]))
		}
		r.ContentLength = n
	} else if r.ProtoMajor == 1 && !hasTE {
		// An HTTP/1.x request with neither Content-Length nor
		// Transfer-Encoding has no body (RFC 9112 section 6.3).
		r.ContentLength = 0
	}
	if r.ContentLength == 0 {
		r.Body = http.NoBody
	} else {
		sl.body = requestBody{req: r}
		r.Body = &sl.body
	}
	return r, &sl.ctx, nil
}

// method returns the method as a string, without allocating for the
// standard methods.
func method(b []byte) string {
	switch string(b) {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodOptions:
		return http.MethodOptions
	}
	return string(b)
}

// proto returns the protocol version as a string, without allocating for
// the common versions. An empty version is taken as HTTP/1.1.
func proto(b []byte) (string, bool) {
	switch string(b) {
	case "HTTP/1.1", "":
		return "HTTP/1.1", true
	case "HTTP/2.0", "HTTP/2":
		return "HTTP/2.0", true
	case "HTTP/1.0":
		return "HTTP/1.0", true
	case "HTTP/3.0", "HTTP/3":
		return "HTTP/3.0", true
	}
	return string(b), true
}

// readHeaders reads all headers of the given kind into a new http.Header.
// The values of all headers are read into one buffer first, so that the
// whole header costs one string and one []string, not two allocations per
// field: allocation is what a request costs most in a wasm guest.
func readHeaders(kind abi.HeaderKind) http.Header {
	vb, fields, total := appendHeaders(valuesBuf[:0], fieldsBuf[:0], kind)
	h := make(http.Header, len(fields))
	fillHeaders(h, string(vb), fields, total, nil)
	valuesBuf = vb
	clear(fields)
	fieldsBuf = fields[:0]
	return h
}

// readRequestStrings reads the request target, headers and source address
// into one buffer and makes one string of it, which RequestURI, every
// header value and RemoteAddr are slices of; the values go into h, which
// must be empty, except Host, which goes to r.Host as net/http's server
// moves it there. A request whose bytes are the previous request's reuses
// that string and allocates nothing here. It returns the Content-Length
// values and whether there is a Transfer-Encoding header.
func readRequestStrings(r *http.Request, h http.Header) (cl []string, hasTE bool) {
	vb := appendHostValue(valuesBuf[:0], getURI)
	uriEnd := len(vb)
	vb, fields, total := appendHeaders(vb, fieldsBuf[:0], abi.HeaderKindRequest)
	valsEnd := len(vb)
	vb = appendHostValue(vb, getSourceAddr)
	all := reuseString(vb)
	r.RequestURI = all[:uriEnd]
	r.RemoteAddr = all[valsEnd:]
	r.Header = h
	cl, hasTE = fillHeaders(h, all[uriEnd:valsEnd], fields, total, &r.Host)
	valuesBuf = vb
	clear(fields)
	fieldsBuf = fields[:0]
	return cl, hasTE
}

// lastStrings is the string readRequestStrings made for the previous
// request. Strings are immutable, so a later request with the same bytes
// (a client repeating a request on its connection) can share it.
var lastStrings string

// reuseString returns b as a string: lastStrings when the bytes are the
// same, else a new string, remembered in lastStrings.
func reuseString(b []byte) string {
	if string(b) != lastStrings { // compared without converting
		lastStrings = string(b)
	}
	return lastStrings
}

// appendHostValue appends to vb the value a "(buf, buf_limit) -> len" host
// function returns, growing vb and calling again when it did not fit.
func appendHostValue(vb []byte, fn func(*byte, uint32) uint32) []byte {
	for {
		if cap(vb)-len(vb) < 64 {
			vb = slices.Grow(vb, cap(vb))
		}
		free := vb[len(vb):cap(vb)]
		n := fn(&free[0], uint32(len(free)))
		if n <= uint32(len(free)) {
			return vb[:len(vb)+int(n)]
		}
		vb = slices.Grow(vb, int(n))
	}
}

// appendHeaders appends to vb the NUL-terminated values of every header of
// kind and to fields each header's canonical name and value count; total
// is the count of all values.
func appendHeaders(vb []byte, fields []field, kind abi.HeaderKind) (_ []byte, _ []field, total int) {
	names := readHeaderNames(kind)
	for len(names) > 0 {
		i := indexNUL(names)
		if i < 0 {
			i = len(names)
		}
		name := names[:i]
		if i < len(names) {
			names = names[i+1:]
		} else {
			names = nil
		}
		if len(name) == 0 {
			continue
		}
		var count int
		vb, count = appendHeaderValues(vb, kind, unsafe.String(&name[0], len(name)))
		if count > 0 {
			fields = append(fields, field{key: canonicalKey(name), count: count})
			total += count
		}
	}
	return vb, fields, total
}

// fillHeaders sets in h each field of fields to its values, sliced in
// order from all, the NUL-terminated values appendHeaders read. With host
// set, the first value of Host goes there instead of into h. Each field's
// values are one []string slice of one allocation for all, capped, so
// that appending to one header's values cannot overwrite the next
// header's. It returns the Content-Length values and whether h got a
// Transfer-Encoding, so that the caller need not look them up.
func fillHeaders(h http.Header, all string, fields []field, total int, host *string) (cl []string, hasTE bool) {
	var vals []string
	for _, f := range fields {
		if host != nil && f.key == "Host" {
			// Only the first value is kept, as net/http's server does
			// for the Host header: no []string needed.
			*host, all = nextValue(all)
			for range f.count - 1 {
				_, all = nextValue(all)
			}
			total -= f.count
			continue
		}
		if vals == nil {
			vals = make([]string, total)
		}
		vs := vals[:f.count:f.count]
		vals = vals[f.count:]
		for j := range vs {
			vs[j], all = nextValue(all)
		}
		switch f.key {
		case "Content-Length":
			cl = vs
		case "Transfer-Encoding":
			hasTE = true
		}
		h[f.key] = vs
	}
	return cl, hasTE
}

// nextValue splits the first NUL-terminated value off all.
func nextValue(all string) (v, rest string) {
	k := strings.IndexByte(all, 0)
	if k < 0 {
		return all, ""
	}
	return all[:k], all[k+1:]
}

// field is one header while readHeaders collects the values of all.
type field struct {
	key   string
	count int
}

// Buffers reused by readHeaders between requests.
var (
	valuesBuf = make([]byte, 0, 2048)
	fieldsBuf = make([]field, 0, 16)
)

// readHeaderNames returns the NUL-terminated header names of kind. The
// result aliases namesBuf.
func readHeaderNames(kind abi.HeaderKind) []byte {
	for {
		_, n := abi.DecodeCountLen(getHeaderNames(kind, &namesBuf[0], uint32(len(namesBuf))))
		if n <= uint32(len(namesBuf)) {
			return namesBuf[:n]
		}
		ensure(&namesBuf, n)
	}
}

// appendHeaderValues appends the NUL-terminated values of header name of
// kind to vb and returns it with their count.
func appendHeaderValues(vb []byte, kind abi.HeaderKind, name string) ([]byte, int) {
	for {
		if cap(vb)-len(vb) < 64 {
			vb = slices.Grow(vb, cap(vb))
		}
		free := vb[len(vb):cap(vb)]
		c, l := abi.DecodeCountLen(getHeaderValues(kind, name, &free[0], uint32(len(free))))
		count, n := int(c), int(l)
		if n <= len(free) {
			return vb[:len(vb)+n], count
		}
		vb = slices.Grow(vb, n)
	}
}

func countNames(b []byte) int {
	n := 0
	for _, c := range b {
		if c == 0 {
			n++
		}
	}
	return n
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// keyCache maps header names as the host sends them (lower-case) to their
// canonical form, so that a request's usual headers cost no allocation. It
// is bounded so clients cannot grow it without limit.
var keyCache = make(map[string]string, 64)

const keyCacheMax = 512

// canonicalKey returns the canonical MIME form of a header name, as
// net/http uses for Header keys.
func canonicalKey(name []byte) string {
	if k := commonKey(name); k != "" {
		return k
	}
	if k, ok := keyCache[string(name)]; ok {
		return k
	}
	raw := string(name)
	k := textproto.CanonicalMIMEHeaderKey(raw)
	if len(keyCache) < keyCacheMax {
		keyCache[raw] = k
	}
	return k
}

// commonKey returns the canonical form of the header names most requests
// carry, without hashing: a switch on a string compiles to comparisons,
// cheaper than a map lookup in a wasm guest. It returns "" for any other
// name.
func commonKey(name []byte) string {
	switch string(name) {
	case "host":
		return "Host"
	case "user-agent":
		return "User-Agent"
	case "accept":
		return "Accept"
	case "accept-encoding":
		return "Accept-Encoding"
	case "accept-language":
		return "Accept-Language"
	case "connection":
		return "Connection"
	case "content-length":
		return "Content-Length"
	case "content-type":
		return "Content-Type"
	case "cookie":
		return "Cookie"
	case "authorization":
		return "Authorization"
	case "cache-control":
		return "Cache-Control"
	case "referer":
		return "Referer"
	case "origin":
		return "Origin"
	case "if-none-match":
		return "If-None-Match"
	case "if-modified-since":
		return "If-Modified-Since"
	case "transfer-encoding":
		return "Transfer-Encoding"
	case "x-forwarded-for":
		return "X-Forwarded-For"
	case "x-forwarded-proto":
		return "X-Forwarded-Proto"
	case "x-request-id":
		return "X-Request-Id"
	}
	return ""
}

// requestBody streams the request body from the host. Reads go straight
// into the caller's buffer.
type requestBody struct {
	req    *http.Request // whose Trailer the end of the body fills
	eof    bool          // the host reported the end of the body
	closed bool          // Close was called or the handler returned
}

// maxEmptyReads bounds consecutive empty, non-EOF reads from the host.
const maxEmptyReads = 100

// Read implements io.Reader.
func (b *requestBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	limit := uint32(len(p))
	if len(p) > 1<<30 {
		limit = 1 << 30
	}
	for range maxEmptyReads {
		eof, n32 := abi.DecodeEOFLen(readBody(abi.BodyKindRequest, &p[0], limit))
		n := int(n32)
		if n > len(p) {
			return 0, errors.New("guest: host read_body overran the buffer")
		}
		if eof {
			b.eof = true
			b.readTrailers()
			if n == 0 {
				return 0, io.EOF
			}
			return n, io.EOF
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, io.ErrNoProgress
}

// readTrailers fills Request.Trailer once the body was read to its end, as
// net/http does: it turns the ABI's trailers feature on for this request
// and reads the request trailers (header kind 2). Request.Trailer stays nil
// when there are none.
func (b *requestBody) readTrailers() {
	if r := b.req; r != nil && r.ProtoMajor == 1 && r.ContentLength >= 0 {
		// An HTTP/1 body of known length is not chunked: it cannot
		// carry trailers, and asking costs two host calls and a map.
		return
	}
	enableFeatures(abi.FeatureTrailers)
	if t := readHeaders(abi.HeaderKindRequestTrailers); len(t) > 0 && b.req != nil {
		b.req.Trailer = t
	}
}

// copyBuf is the buffer WriteTo copies through, reused: an instance serves
// one request at a time, and io.Copy's own 32 KiB buffer would be a large
// allocation for every request.
var copyBuf []byte

// WriteTo implements io.WriterTo, so that io.Copy from the body reads
// through copyBuf instead of allocating a buffer of its own.
func (b *requestBody) WriteTo(w io.Writer) (int64, error) {
	if copyBuf == nil {
		copyBuf = make([]byte, 64<<10)
	}
	var total int64
	for {
		n, err := b.Read(copyBuf)
		if n > 0 {
			m, werr := w.Write(copyBuf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
			if m < n {
				return total, io.ErrShortWrite
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Close implements io.Closer. Further reads fail.
func (b *requestBody) Close() error {
	b.closed = true
	return nil
}
