package wasihttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
	"github.com/wasmserve/wasmserve/runtimepool/component/wasip2"
)

// incomingRequest is the Go value of an incoming-request: the request the
// guest serves.
type incomingRequest struct {
	method        string
	pathWithQuery string
	scheme        string // "http" or "https"
	authority     string
	headers       *fields
	body          *incomingBody
	consumed      bool
}

// newIncomingRequest makes the incoming-request of r, its body read under
// limit bytes (0: none).
func newIncomingRequest(r *http.Request, limit int64) *incomingRequest {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	h := fieldsFromHeader(r.Header)
	if r.Host != "" && r.Header.Get("Host") == "" {
		h.entries = append([]fieldEntry{{name: "host", value: []byte(r.Host)}}, h.entries...)
	}
	body := &incomingBody{
		r:       r.Body,
		limit:   limit,
		client:  true,
		trailer: func() http.Header { return r.Trailer },
		tooBig:  errorCode{Case: ecHTTPRequestBodySize, Value: none},
	}
	if r.Body == nil {
		body.r = http.NoBody
	}
	return &incomingRequest{
		method:        r.Method,
		pathWithQuery: r.URL.RequestURI(),
		scheme:        scheme,
		authority:     r.Host,
		headers:       h,
		body:          body,
	}
}

// incomingBody is the Go value of an incoming-body: of the request served,
// or of the response to an outgoing request. Its stream reads the body
// directly (see bodyStream), counting against limit.
type incomingBody struct {
	r       io.Reader
	closer  io.Closer // closed when the body is dropped; nil for the request served
	limit   int64     // 0: none
	read    int64
	eof     bool
	err     error // the first read error, as the stream reported it
	trailer func() http.Header
	// client says the body is the client's: a read error is the
	// client's fault (clientErr), and over the limit is 413's
	// *http.MaxBytesError.
	client    bool
	clientErr error
	// tooBig is the error-code of a body over its limit.
	tooBig errorCode
	// ctx is the request's: a read that fails once it is done failed
	// because the request ended (the handler timeout), not by the
	// client's doing.
	ctx context.Context

	streamTaken bool
	streamOpen  bool
	finished    bool

	scratch []byte // the buffer of readBody

	// mu serialises reads: the stream of a response body reads ahead in a
	// goroutine of its own (wasip2.NewReaderStream) while the guest may
	// finish the body and drain the rest for its trailers.
	mu sync.Mutex
}

// Read reads the body as an io.Reader, for a read-ahead stream.
func (b *incomingBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	data, err := b.readBody(uint64(len(p)))
	return copy(p, data), err
}

// readBody reads up to n bytes of the body, blocking until some arrive.
func (b *incomingBody) readBody(n uint64) ([]byte, error) {
	switch {
	case b.err != nil:
		return nil, io.EOF
	case b.eof:
		return nil, io.EOF
	case n == 0:
		return nil, nil
	}
	k := min(n, chunkSize)
	if b.limit > 0 {
		// One byte past the limit tells a body at it from one over.
		k = min(k, uint64(b.limit-b.read+1))
	}
	// The bytes are lowered into the guest, or copied, before the next
	// read: one buffer serves every read.
	if uint64(cap(b.scratch)) < k {
		b.scratch = make([]byte, k)
	}
	buf := b.scratch[:k]
	m, err := b.r.Read(buf)
	for m == 0 && err == nil {
		m, err = b.r.Read(buf)
	}
	if b.limit > 0 && b.read+int64(m) > b.limit {
		// Hand out what is within the limit; the next read fails.
		keep := b.limit - b.read
		b.read = b.limit
		b.r = errReader{&codeError{code: b.tooBig, err: &errBodyTooBig{limit: b.limit}}}
		if keep > 0 {
			return buf[:keep], nil
		}
		return nil, b.fail(b.r.(errReader).err)
	}
	b.read += int64(m)
	switch {
	case err == io.EOF:
		b.eof = true
		if m == 0 {
			return nil, io.EOF
		}
	case err != nil:
		if m > 0 {
			// Hand out what came; the error is the next read's.
			b.r = errReader{err}
			return buf[:m], nil
		}
		return nil, b.fail(err)
	}
	return buf[:m], nil
}

// fail records the body's error.
func (b *incomingBody) fail(err error) error {
	var ce *codeError
	if !b.client && !errors.As(err, &ce) {
		err = &codeError{code: errorCodeOf(err), err: err}
	}
	b.err = err
	if b.client && (b.ctx == nil || b.ctx.Err() == nil) {
		var tb *errBodyTooBig
		if errors.As(err, &tb) {
			b.clientErr = &http.MaxBytesError{Limit: tb.limit}
		} else {
			b.clientErr = err
		}
	}
	return err
}

// drain reads the rest of the body, for its trailers.
func (b *incomingBody) drain() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.eof && b.err == nil {
		if _, err := b.readBody(chunkSize); err != nil && err != io.EOF {
			return err
		}
	}
	if b.err != nil {
		return b.err
	}
	return nil
}

func (b *incomingBody) close() {
	if b.closer != nil {
		b.closer.Close()
		b.closer = nil
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// futureTrailers is the Go value of a future-trailers: the trailers of a
// finished incoming body, once the rest of it is read.
type futureTrailers struct {
	body *incomingBody
	done bool
}

// get answers future-trailers.get: the rest of the body is read here, so
// the value is always ready.
func (f *futureTrailers) get() cabi.Option {
	if f.done {
		return some(fail(nil))
	}
	f.done = true
	defer f.body.close()
	if err := f.body.drain(); err != nil {
		return some(ok(fail(errorCodeOf(err))))
	}
	var t http.Header
	if f.body.trailer != nil {
		t = f.body.trailer()
	}
	if len(t) == 0 {
		return some(ok(ok(none)))
	}
	return some(ok(ok(some(fieldsFromHeader(t)))))
}

// methodValue is the method variant of an HTTP method.
func methodValue(m string) cabi.Variant {
	for i, name := range methodNames {
		if m == name {
			return cabi.Variant{Case: uint32(i)}
		}
	}
	return cabi.Variant{Case: methodOther, Value: m}
}

// methodOf is the HTTP method of a method variant; false when other's
// string is not a token.
func methodOf(v cabi.Variant) (string, bool) {
	if v.Case < methodOther {
		return methodNames[v.Case], true
	}
	s, _ := v.Value.(string)
	return s, validFieldName(s)
}

// schemeValue is the scheme variant of a URL scheme.
func schemeValue(s string) cabi.Variant {
	switch strings.ToLower(s) {
	case "http":
		return cabi.Variant{Case: schemeHTTP}
	case "https":
		return cabi.Variant{Case: schemeHTTPS}
	}
	return cabi.Variant{Case: schemeOther, Value: s}
}

// schemeOf is the URL scheme of a scheme variant.
func schemeOf(v cabi.Variant) string {
	switch v.Case {
	case schemeHTTP:
		return "http"
	case schemeHTTPS:
		return "https"
	}
	s, _ := v.Value.(string)
	return s
}

// incomingFuncs are the functions of incoming-request, incoming-body and
// future-trailers.
func incomingFuncs() map[string]*component.HostFunc {
	req := component.Param{Name: "self", Type: borrow(incomingRequestRes)}
	body := component.Param{Name: "self", Type: borrow(incomingBodyRes)}
	ft := component.Param{Name: "self", Type: borrow(futureTrailersRes)}
	optString := cabi.OptionOf(cabi.StringType)
	return map[string]*component.HostFunc{
		"[method]incoming-request.method": {
			Params:  []component.Param{req},
			Results: []*cabi.Type{methodType},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{methodValue(args[0].(*incomingRequest).method)}, nil
			},
		},
		"[method]incoming-request.path-with-query": {
			Params:  []component.Param{req},
			Results: []*cabi.Type{optString},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{some(args[0].(*incomingRequest).pathWithQuery)}, nil
			},
		},
		"[method]incoming-request.scheme": {
			Params:  []component.Param{req},
			Results: []*cabi.Type{cabi.OptionOf(schemeType)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{some(schemeValue(args[0].(*incomingRequest).scheme))}, nil
			},
		},
		"[method]incoming-request.authority": {
			Params:  []component.Param{req},
			Results: []*cabi.Type{optString},
			Call: func(_ context.Context, args []any) ([]any, error) {
				if a := args[0].(*incomingRequest).authority; a != "" {
					return []any{some(a)}, nil
				}
				return []any{none}, nil
			},
		},
		"[method]incoming-request.headers": {
			Params:  []component.Param{req},
			Results: []*cabi.Type{own(fieldsRes)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{args[0].(*incomingRequest).headers}, nil
			},
		},
		"[method]incoming-request.consume": {
			Params:  []component.Param{req},
			Results: []*cabi.Type{cabi.ResultOf(own(incomingBodyRes), nil)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				r := args[0].(*incomingRequest)
				if r.consumed {
					return []any{fail(nil)}, nil
				}
				r.consumed = true
				return []any{ok(r.body)}, nil
			},
		},
		"[method]incoming-body.stream": {
			Params:  []component.Param{body},
			Results: []*cabi.Type{cabi.ResultOf(own(wasip2.InputStreamType), nil)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				b := args[0].(*incomingBody)
				if b.streamTaken {
					return []any{fail(nil)}, nil
				}
				b.streamTaken, b.streamOpen = true, true
				if !b.client {
					// A response's body is read ahead, so that the guest
					// can wait on it beside other pollables, and write
					// the request body while the response streams.
					return []any{ok(wasip2.NewReaderStream(b))}, nil
				}
				return []any{ok(wasip2.InputStream(&bodyStream{body: b}))}, nil
			},
		},
		"[static]incoming-body.finish": {
			Params:  []component.Param{{Name: "this", Type: own(incomingBodyRes)}},
			Results: []*cabi.Type{own(futureTrailersRes)},
			Call: func(_ context.Context, args []any) ([]any, error) {
				b := args[0].(*incomingBody)
				b.finished = true
				return []any{&futureTrailers{body: b}}, nil
			},
		},
		"[method]future-trailers.subscribe": {
			Params:  []component.Param{ft},
			Results: []*cabi.Type{own(wasip2.PollableType)},
			Call: func(context.Context, []any) ([]any, error) {
				return []any{wasip2.ReadyPollable()}, nil
			},
		},
		"[method]future-trailers.get": {
			Params: []component.Param{ft},
			Results: []*cabi.Type{cabi.OptionOf(cabi.ResultOf(
				cabi.ResultOf(cabi.OptionOf(own(fieldsRes)), errorCodeType), nil))},
			Call: func(_ context.Context, args []any) ([]any, error) {
				return []any{args[0].(*futureTrailers).get()}, nil
			},
		},
	}
}
