package conformance

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// InProcessRemoteAddr is the client address an in-process request comes
// from, as the guest's get_source_addr sees it.
const InProcessRemoteAddr = "127.0.0.1:40000"

// InProcess returns a Do function that serves each request with h in this
// process, without a network: the request looks as net/http's server would
// hand it to h (HTTP/1.1, RequestURI, RemoteAddr [InProcessRemoteAddr],
// trailers filled at the end of the body), and the response is recorded in
// memory, with the headers as they were when the status was written and the
// trailers as a server would send them.
func InProcess(h http.Handler) func(*http.Request) (*http.Response, error) {
	return func(creq *http.Request) (*http.Response, error) {
		r := creq.Clone(creq.Context())
		r.RequestURI = creq.URL.RequestURI()
		r.URL = &url.URL{Path: creq.URL.Path, RawPath: creq.URL.RawPath, RawQuery: creq.URL.RawQuery}
		r.RemoteAddr = InProcessRemoteAddr
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
		if r.Body == nil {
			r.Body = http.NoBody
		}
		// A server's request carries Content-Length in its header as the
		// client sent it (for POST, PUT and PATCH even when 0).
		switch {
		case r.ContentLength > 0:
			r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
		case r.ContentLength == 0 && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch):
			r.Header.Set("Content-Length", "0")
		}
		if creq.Trailer != nil {
			// As the server does: the names are known up front, the
			// values arrive after the body.
			r.TransferEncoding = []string{"chunked"}
			r.ContentLength = -1
			r.Trailer = http.Header{}
			for k := range creq.Trailer {
				r.Trailer[k] = nil
			}
			r.Body = &trailerBody{r: creq.Body, src: creq.Trailer, dst: r.Trailer}
		}
		w := &recorder{header: http.Header{}, head: r.Method == http.MethodHead}
		aborted, err := serve(h, w, r)
		if err != nil {
			return nil, err
		}
		return w.response(r, aborted), nil
	}
}

// serve runs h and reports whether it aborted the response with a panic
// (http.ErrAbortHandler is how a handler cuts a response short); another
// panic is an error of the case, as net/http's server would log it and
// drop the connection, not a crash of the runner.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(error); ok && errors.Is(e, http.ErrAbortHandler) {
				aborted = true
				return
			}
			err = fmt.Errorf("the handler panicked: %v", p)
		}
	}()
	h.ServeHTTP(w, r)
	return false, nil
}

// MaxResponseBody bounds the response body a case reads, in process or
// from a URL: past it the case fails rather than the runner running out of
// memory.
const MaxResponseBody = 64 << 20

// errBodyTooLarge is the failure of a response body over MaxResponseBody.
var errBodyTooLarge = fmt.Errorf("the response body is over %d MiB, the most a case reads", MaxResponseBody>>20)

// trailerBody reads r and, at its end, copies the trailers into dst.
type trailerBody struct {
	r        io.ReadCloser
	src, dst http.Header
	once     sync.Once
}

func (b *trailerBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.once.Do(func() {
			for k, vs := range b.src {
				b.dst[k] = vs
			}
		})
	}
	return n, err
}

func (b *trailerBody) Close() error { return b.r.Close() }

// recorder is the in-memory http.ResponseWriter of InProcess.
type recorder struct {
	header  http.Header
	sent    http.Header // the header when the status was written
	status  int
	body    bytes.Buffer
	overrun bool // a write went past MaxResponseBody
	head    bool // the request is a HEAD: writes are eaten, as net/http's server does
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.status != 0 || code < 200 {
		return
	}
	w.status = code
	w.sent = w.header.Clone()
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.head {
		return len(p), nil
	}
	if w.body.Len()+len(p) > MaxResponseBody {
		w.overrun = true
		return 0, errBodyTooLarge
	}
	return w.body.Write(p)
}

// Flush implements http.Flusher; the body is in memory already.
func (w *recorder) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
}

// response is what a client would have received.
func (w *recorder) response(r *http.Request, aborted bool) *http.Response {
	w.Flush()
	resp := &http.Response{
		Status:     fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode: w.status,
		Proto:      r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		Header:  http.Header{},
		Trailer: http.Header{},
		Request: r,
	}
	declared := map[string]bool{}
	for _, line := range w.sent["Trailer"] {
		for _, k := range strings.Split(line, ",") {
			if k = strings.TrimSpace(k); k != "" {
				declared[http.CanonicalHeaderKey(k)] = true
			}
		}
	}
	for k, vs := range w.sent {
		if k != "Trailer" && !strings.HasPrefix(k, http.TrailerPrefix) {
			resp.Header[k] = vs
		}
	}
	for k, vs := range w.header {
		switch {
		case strings.HasPrefix(k, http.TrailerPrefix):
			resp.Trailer[http.CanonicalHeaderKey(strings.TrimPrefix(k, http.TrailerPrefix))] = vs
		case declared[k]:
			resp.Trailer[k] = vs
		}
	}
	var body io.Reader = bytes.NewReader(w.body.Bytes())
	switch {
	case w.overrun:
		body = io.MultiReader(body, errReader{errBodyTooLarge})
	case aborted:
		body = io.MultiReader(body, errReader{errors.New("the handler cut the response short (after the status was sent, it failed)")})
	}
	resp.Body = io.NopCloser(body)
	resp.ContentLength = int64(w.body.Len())
	return resp
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// URL returns a Do function that sends each request to the server at base
// (an http or https URL, optionally with a path prefix) with client, or when
// client is nil with a client that does not follow redirects and verifies
// certificates with tlsConfig (nil: the system's roots).
func URL(base string, client *http.Client, tlsConfig *tls.Config) (func(*http.Request) (*http.Response, error), error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q: want http://host[:port] or https://host[:port]", base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("url %q: a base URL has no query or fragment", base)
	}
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if tlsConfig != nil {
			tr.TLSClientConfig = tlsConfig
		}
		client = &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	prefix := strings.TrimSuffix(u.Path, "/")
	return func(req *http.Request) (*http.Response, error) {
		req.URL.Scheme, req.URL.Host = u.Scheme, u.Host
		req.URL.Path = prefix + req.URL.Path
		if req.URL.RawPath != "" {
			req.URL.RawPath = prefix + req.URL.RawPath
		}
		if req.Host == "localhost" {
			req.Host = ""
		}
		return client.Do(req)
	}, nil
}
