package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Runner runs cases through Do. The zero value is not usable: Do must be
// set.
type Runner struct {
	// Do sends one request and returns its response, as an
	// http.Client's Do does. See [InProcess] and [URL].
	Do func(*http.Request) (*http.Response, error)
	// Log, when set, returns everything the server logged so far; the
	// runner reads it before and after each case for log_contains, and
	// shows a failing case's lines. Nil skips log_contains.
	Log func() string
	// Timeout bounds one case; 0 means 30 s.
	Timeout time.Duration
	// Each, when set, is called with every result as its case ends, so
	// that progress shows while a long file runs.
	Each func(*Result)
}

// Mismatch is one expectation a response did not meet.
type Mismatch struct {
	// What names the expectation, e.g. "status" or "header x-a".
	What string
	// Want and Got are the expected and actual values, as printed.
	Want, Got string
	// Diff, for bodies too long for a line, is a unified diff of the
	// expected and actual ones; Want and Got then summarize them.
	Diff string
}

// Result is the outcome of one case.
type Result struct {
	File     string
	Case     *Case
	Duration time.Duration
	// Err is a request that could not be made or answered at all.
	Err error
	// Mismatches are the expectations not met.
	Mismatches []Mismatch
	// Skipped names checks that could not be made (log_contains
	// against a URL).
	Skipped []string
	// Log is what the server logged while the case ran (in process).
	Log string
}

// Passed reports whether the case met every expectation.
func (r *Result) Passed() bool { return r.Err == nil && len(r.Mismatches) == 0 }

// Run runs every case of f in order.
func (rn *Runner) Run(ctx context.Context, f *File, keep func(*Case) bool) []*Result {
	var out []*Result
	for _, c := range f.Cases {
		if keep != nil && !keep(c) {
			continue
		}
		r := rn.runCase(ctx, f.Path, c)
		if rn.Each != nil {
			rn.Each(r)
		}
		out = append(out, r)
	}
	return out
}

func (rn *Runner) runCase(ctx context.Context, file string, c *Case) *Result {
	res := &Result{File: file, Case: c}
	timeout := rn.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := newRequest(ctx, c)
	if err != nil {
		res.Err = err
		return res
	}
	logBefore := 0
	if rn.Log != nil {
		logBefore = len(rn.Log())
	}
	start := time.Now()
	resp, err := rn.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
		if err == nil && len(body) > MaxResponseBody {
			err = errBodyTooLarge
		}
		resp.Body.Close()
		if err != nil {
			err = fmt.Errorf("reading the response body: %w", err)
		}
	}
	res.Duration = time.Since(start)
	if rn.Log != nil {
		if l := rn.Log(); len(l) >= logBefore {
			res.Log = l[logBefore:]
		}
	}
	if err != nil {
		res.Err = err
		return res
	}
	res.Mismatches = check(c, resp, body, res, rn.Log != nil)
	if rn.Log == nil && len(c.Expect.LogContains) > 0 {
		res.Skipped = append(res.Skipped, "log_contains (no server log to read)")
	}
	return res
}

// newRequest builds the client request of c. Its URL is relative
// (http://case.invalid/path); the Do functions put their own origin on it.
func newRequest(ctx context.Context, c *Case) (*http.Request, error) {
	r := &c.Request
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, "http://localhost"+r.Path, body)
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	for name, vs := range r.Headers {
		if strings.EqualFold(name, "host") {
			req.Host = vs[0]
			continue
		}
		for _, v := range vs {
			req.Header.Add(name, v)
		}
	}
	if r.Host != "" {
		req.Host = r.Host
	}
	if len(r.Trailers) > 0 {
		req.Trailer = http.Header{}
		for name, vs := range r.Trailers {
			for _, v := range vs {
				req.Trailer.Add(name, v)
			}
		}
		// Trailers need a chunked body: hide its length.
		req.Body = io.NopCloser(struct{ io.Reader }{bytes.NewReader(r.body)})
		req.ContentLength = -1
	}
	return req, nil
}

// check compares the response with c's expectations.
// haveLog tells whether res.Log is the server's log.
func check(c *Case, resp *http.Response, body []byte, res *Result, haveLog bool) []Mismatch {
	e := &c.Expect
	var ms []Mismatch
	add := func(what, want, got string) { ms = append(ms, Mismatch{What: what, Want: want, Got: got}) }
	if e.Status != 0 && resp.StatusCode != e.Status {
		add("status", fmt.Sprint(e.Status), fmt.Sprint(resp.StatusCode))
	}
	for _, name := range sortedKeys(e.Headers) {
		want, got := e.Headers[name], resp.Header.Values(name)
		if !slices.Equal([]string(want), got) {
			add("header "+name, showValues(want), showValues(got))
		}
	}
	for _, name := range sortedKeys(e.headersMatch) {
		rx := e.headersMatch[name]
		got := resp.Header.Values(name)
		if len(got) == 0 || !rx.MatchString(got[0]) {
			add("header "+name, "matching "+quote(rx.String()), showValues(got))
		}
	}
	for _, name := range e.HeadersAbsent {
		if got := resp.Header.Values(name); len(got) > 0 {
			add("header "+name, "absent", showValues(got))
		}
	}
	for _, name := range sortedKeys(e.Trailers) {
		want, got := e.Trailers[name], resp.Trailer.Values(name)
		if !slices.Equal([]string(want), got) {
			add("trailer "+name, showValues(want), showValues(got))
		}
	}
	if e.Body != nil && string(body) != *e.Body {
		if longBody(*e.Body, string(body)) {
			ms = append(ms, Mismatch{"body", sizeOf(*e.Body), sizeOf(string(body)) + " (diff below)",
				unifiedDiff(*e.Body, string(body))})
		} else {
			add("body", quote(*e.Body), quote(string(body)))
		}
	}
	for _, s := range e.BodyContains {
		if !bytes.Contains(body, []byte(s)) {
			add("body", "containing "+quote(s), quote(string(body)))
		}
	}
	for _, s := range e.BodyNotContains {
		if bytes.Contains(body, []byte(s)) {
			add("body", "not containing "+quote(s), quote(string(body)))
		}
	}
	for _, rx := range e.bodyMatches {
		if !rx.Match(body) {
			add("body", "matching "+quote(rx.String()), quote(string(body)))
		}
	}
	if e.BodyJSON != nil {
		var got any
		if err := json.Unmarshal(body, &got); err != nil {
			add("body_json", showJSON(e.BodyJSON), "not JSON ("+err.Error()+"): "+quote(string(body)))
		} else if path, ok := subset(e.BodyJSON, got, "$"); !ok {
			add("body_json at "+path, showJSON(e.BodyJSON), showJSON(got))
		}
	}
	if e.MaxDuration > 0 && res.Duration > time.Duration(e.MaxDuration) {
		add("duration", "at most "+time.Duration(e.MaxDuration).String(), res.Duration.Round(time.Microsecond).String())
	}
	for _, s := range e.LogContains {
		if haveLog && !strings.Contains(res.Log, s) {
			add("log", "containing "+quote(s), quote(strings.TrimSpace(res.Log)))
		}
	}
	return ms
}

// sizeOf summarizes a body: its bytes and lines.
func sizeOf(s string) string {
	lines := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		lines++
	}
	unit := "lines"
	if lines == 1 {
		unit = "line"
	}
	return fmt.Sprintf("%d bytes, %d %s", len(s), lines, unit)
}

// subset reports whether got contains want (see Expect.BodyJSON), and
// where they first differ.
func subset(want, got any, path string) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path, false
		}
		for _, k := range sortedKeys(w) {
			gv, ok := g[k]
			if !ok {
				return path + "." + k, false
			}
			if p, ok := subset(w[k], gv, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path, false
		}
		for i := range w {
			if p, ok := subset(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	}
	return path, reflect.DeepEqual(want, got)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// maxShown bounds a value as printed.
const maxShown = 300

func quote(s string) string {
	if len(s) > maxShown {
		return fmt.Sprintf("%q… (%d bytes)", s[:maxShown], len(s))
	}
	return fmt.Sprintf("%q", s)
}

func showValues(vs []string) string {
	if len(vs) == 0 {
		return "absent"
	}
	if len(vs) == 1 {
		return quote(vs[0])
	}
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func showJSON(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > maxShown {
		return fmt.Sprintf("%s… (%d bytes)", b[:maxShown], len(b))
	}
	return string(b)
}
