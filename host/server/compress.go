package server

import (
	"bufio"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/wasmserve/wasmserve/host/reqinfo"
)

// CompressConfig configures response compression. The zero value is valid:
// bodies of 1 KiB or more are compressed.
type CompressConfig struct {
	// MinSize is the smallest body compressed, in bytes; 0 means 1 KiB. A
	// body of unknown length is held until it reaches MinSize (or the
	// handler flushes or ends), and sent as is if it stays smaller.
	MinSize int
}

// encodings are the content codings offered, in the server's preference for
// a tie in the client's q-values: zstd compresses about as well as br at
// gzip's speed.
var encodings = [...]string{"zstd", "br", "gzip"}

// encoder is what the three libraries' writers have in common.
type encoder interface {
	io.Writer
	Flush() error
	Close() error
	Reset(io.Writer)
}

// compressor holds the encoder pools of a server.
type compressor struct {
	minSize int
	pools   [len(encodings)]sync.Pool
}

func newCompressor(cfg CompressConfig) *compressor {
	c := &compressor{minSize: cfg.MinSize}
	if c.minSize <= 0 {
		c.minSize = 1024
	}
	// Levels: gzip 5 and br 4, where both are near their best ratio for
	// the time (Caddy and nginx sit there); zstd's default. zstd runs
	// without its own goroutines: one encoder per response already.
	c.pools[0].New = func() any {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic(err) // only for invalid options
		}
		return e
	}
	c.pools[1].New = func() any { return brotli.NewWriterLevel(nil, 4) }
	c.pools[2].New = func() any {
		e, err := gzip.NewWriterLevel(nil, 5)
		if err != nil {
			panic(err)
		}
		return e
	}
	return c
}

// negotiate picks the coding of encodings the client's Accept-Encoding
// ranks highest (RFC 9110 §12.5.3: q-values, q=0 refuses, "*" stands for
// every coding not named), or -1 for none.
func negotiate(accept string) int {
	if accept == "" {
		return -1
	}
	var q [len(encodings)]float64
	for i := range q {
		q[i] = -1 // not named
	}
	star := -1.0
	for part := range strings.SplitSeq(accept, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		weight := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0 // a q-value that does not parse refuses
				}
				weight = f
			}
		}
		if name == "x-gzip" {
			name = "gzip"
		}
		if name == "*" {
			star = weight
			continue
		}
		for i, e := range encodings {
			if name == e {
				q[i] = weight
			}
		}
	}
	best, bestQ := -1, 0.0
	for i := range q {
		w := q[i]
		if w < 0 {
			w = star
		}
		if w > bestQ {
			best, bestQ = i, w
		}
	}
	return best
}

// compressible reports whether a Content-Type is worth compressing: text,
// JSON, JavaScript, XML, SVG, WebAssembly, and a few uncompressed font and
// image formats. Already-compressed formats (images, video, archives) are
// not.
func compressible(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") {
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/x-javascript", "application/ecmascript",
		"application/xml", "application/wasm", "application/x-ndjson", "application/graphql",
		"image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon", "image/bmp",
		"font/ttf", "font/otf", "application/vnd.ms-fontobject", "application/x-font-ttf":
		return true
	}
	return false
}

// compressWriter compresses one response, deciding when the handler
// commits it: headers are held until the body is known to be at least
// MinSize long (from Content-Length, or from the first MinSize bytes), so
// at most MinSize bytes are ever buffered; then the body streams through
// the encoder.
type compressWriter struct {
	rw      http.ResponseWriter
	c       *compressor
	enc     int // index into encodings, -1: the client accepts none
	head    bool
	code    int // status held until the decision; 0: none yet
	decided bool
	buf     []byte
	w       encoder // nil: the body passes through
}

// wrap returns the compressing writer of one response.
func (c *compressor) wrap(rw http.ResponseWriter, r *http.Request) *compressWriter {
	return &compressWriter{rw: rw, c: c, enc: negotiate(r.Header.Get("Accept-Encoding")), head: r.Method == http.MethodHead}
}

func (cw *compressWriter) Header() http.Header { return cw.rw.Header() }

// Unwrap gives http.ResponseController the writer underneath.
func (cw *compressWriter) Unwrap() http.ResponseWriter { return cw.rw }

// RequestInfo passes the server's record of the request through.
func (cw *compressWriter) RequestInfo() *reqinfo.Info { return reqinfo.Of(cw.rw) }

// WriteHeader holds the status until the decision, which it makes at once
// when the headers already settle it.
func (cw *compressWriter) WriteHeader(code int) {
	if cw.decided || code >= 100 && code < 200 {
		cw.rw.WriteHeader(code)
		return
	}
	if cw.code != 0 {
		return // superfluous; net/http would only log it
	}
	cw.code = code
	if !cw.mayCompress() {
		cw.decide(false)
		return
	}
	if n, err := strconv.ParseInt(cw.Header().Get("Content-Length"), 10, 64); err == nil {
		cw.decide(n >= int64(cw.c.minSize))
	}
}

// mayCompress says whether the status and headers allow compression;
// Content-Type may be unknown yet (the body is sniffed for it).
func (cw *compressWriter) mayCompress() bool {
	h := cw.Header()
	switch {
	case cw.code == http.StatusNoContent, cw.code == http.StatusNotModified,
		cw.code == http.StatusPartialContent, cw.code == http.StatusSwitchingProtocols:
		return false
	case h.Get("Content-Encoding") != "", h.Get("Content-Range") != "":
		return false
	case h.Get("Content-Type") != "" && !compressible(h.Get("Content-Type")):
		return false
	}
	return true
}

func (cw *compressWriter) Write(b []byte) (int, error) {
	if !cw.decided {
		if cw.code == 0 {
			cw.WriteHeader(http.StatusOK)
		}
		if !cw.decided {
			if len(cw.buf)+len(b) < cw.c.minSize {
				cw.buf = append(cw.buf, b...)
				return len(b), nil
			}
			cw.decideSniffing(true, b)
		}
	}
	if cw.w != nil {
		return cw.w.Write(b)
	}
	return cw.rw.Write(b)
}

// decide commits the response, compressed when long is true and
// everything else allows, and sends what was held.
func (cw *compressWriter) decide(long bool) { cw.decideSniffing(long, nil) }

// decideSniffing is decide, with next the bytes about to be written after
// the held ones, for sniffing a Content-Type.
func (cw *compressWriter) decideSniffing(long bool, next []byte) {
	cw.decided = true
	h := cw.Header()
	if _, set := h["Content-Type"]; !set {
		// net/http would sniff the first bytes it sees, which would
		// be compressed ones. (A Content-Type set to nothing asks
		// for no sniffing.)
		first := cw.buf
		if len(first) == 0 {
			first = next
		}
		if len(first) > 0 {
			h.Set("Content-Type", http.DetectContentType(first))
		}
	}
	ok := cw.mayCompress() && h.Get("Content-Type") != ""
	if ok && h.Get("Content-Encoding") == "" {
		addVary(h)
	}
	if ok && long && cw.enc >= 0 && !cw.head {
		h.Del("Content-Length")
		h.Set("Content-Encoding", encodings[cw.enc])
		if et := h.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
			// The compressed body is not byte-for-byte the one
			// the strong validator names.
			h.Set("ETag", "W/"+et)
		}
		cw.w = cw.c.pools[cw.enc].Get().(encoder)
		cw.w.Reset(cw.rw)
	}
	cw.rw.WriteHeader(cw.code)
	if len(cw.buf) > 0 {
		if cw.w != nil {
			cw.w.Write(cw.buf)
		} else {
			cw.rw.Write(cw.buf)
		}
	}
	cw.buf = nil
}

// addVary adds Accept-Encoding to Vary unless it is there.
func addVary(h http.Header) {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, "Accept-Encoding") {
				return
			}
		}
	}
	h.Add("Vary", "Accept-Encoding")
}

// Flush sends what is held: a handler that flushes streams, so the body
// is compressed even if shorter than MinSize so far.
func (cw *compressWriter) Flush() { cw.FlushError() }

// FlushError is Flush with the error, for http.ResponseController.
func (cw *compressWriter) FlushError() error {
	if !cw.decided {
		if cw.code == 0 {
			cw.WriteHeader(http.StatusOK)
		}
		if !cw.decided {
			cw.decide(true)
		}
	}
	if cw.w != nil {
		if err := cw.w.Flush(); err != nil {
			return err
		}
	}
	return http.NewResponseController(cw.rw).Flush()
}

// Hijack hands the connection over (after a 101, which is never
// compressed).
func (cw *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(cw.rw).Hijack()
}

// close ends the response: what is still held is sent as is (it is
// shorter than MinSize), or the encoder's stream is finished and the
// encoder goes back to its pool.
func (cw *compressWriter) close() {
	if !cw.decided {
		if cw.code == 0 && len(cw.buf) == 0 {
			return // nothing was written: the server sends its 200
		}
		if cw.code == 0 {
			cw.code = http.StatusOK
		}
		cw.decide(false)
	}
	if cw.w != nil {
		cw.w.Close()
		cw.w.Reset(nil)
		cw.c.pools[cw.enc].Put(cw.w)
		cw.w = nil
	}
}
