// Package conformance runs HTTP expectations written in YAML case files
// against a handler: in process through an http.Handler, or against a
// running server's URL. `wasmserve test` is its command line; the case file
// format is documented by conformance/cases.schema.json at the repository
// root, which `wasmserve test --schema` prints.
package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// File is one case file.
type File struct {
	// Path is the file as it was named to Load.
	Path string `yaml:"-"`
	// Cases run in order.
	Cases []*Case `yaml:"cases"`
}

// Case is one request and what its response must be.
type Case struct {
	// Name identifies the case in the output; unique within a file.
	Name string `yaml:"name"`
	// Request is what is sent.
	Request Request `yaml:"request"`
	// Expect is what the response must match; an empty Expect passes
	// any response.
	Expect Expect `yaml:"expect"`
}

// Request is the request of a case.
type Request struct {
	// Method defaults to GET.
	Method string `yaml:"method"`
	// Path is the request target, path and query, beginning with "/".
	Path string `yaml:"path"`
	// Host, when set, is the request's Host: the app a server of many
	// routes it to. A "host" entry of Headers sets it too.
	Host string `yaml:"host"`
	// Headers are sent as given; a "host" entry sets the Host.
	Headers map[string]Values `yaml:"headers"`
	// Body is sent as the request body; BodyFile (relative to the case
	// file) instead reads it from a file. They are exclusive.
	Body     *string `yaml:"body"`
	BodyFile string  `yaml:"body_file"`
	// Trailers are sent after the body, which then goes chunked.
	Trailers map[string]Values `yaml:"trailers"`

	body []byte // Body or the contents of BodyFile
}

// Expect is what a case's response must match. Every field set is
// checked; the zero value checks nothing.
type Expect struct {
	// Status is the status code; 0 does not check it.
	Status int `yaml:"status"`
	// Headers: each header's values must equal the list (a single
	// string is a list of one).
	Headers map[string]Values `yaml:"headers"`
	// HeadersMatch: each header must be present and its first value
	// match the regular expression (RE2 syntax).
	HeadersMatch map[string]string `yaml:"headers_match"`
	// HeadersAbsent must not be in the response.
	HeadersAbsent Strings `yaml:"headers_absent"`
	// Trailers: like Headers, for the response trailers.
	Trailers map[string]Values `yaml:"trailers"`
	// Body must equal the whole body; BodyFile (relative to the case
	// file) instead gives it in a file. They are exclusive.
	Body     *string `yaml:"body"`
	BodyFile string  `yaml:"body_file"`
	// BodyContains must each occur in the body.
	BodyContains Strings `yaml:"body_contains"`
	// BodyNotContains must not occur in the body.
	BodyNotContains Strings `yaml:"body_not_contains"`
	// BodyMatches: the body must match each regular expression.
	BodyMatches Strings `yaml:"body_matches"`
	// BodyJSON: the body must be JSON containing this value: objects
	// may have more keys, arrays must have the same length, scalars
	// must be equal.
	BodyJSON any `yaml:"body_json"`
	// MaxDuration bounds the time from sending the request to the end
	// of the body ("250ms", "2s").
	MaxDuration Duration `yaml:"max_duration"`
	// LogContains must each occur in the server log written while the
	// case ran. Checked in process only: against a URL there is no log
	// to read, and the check is reported as skipped.
	LogContains Strings `yaml:"log_contains"`

	headersMatch map[string]*regexp.Regexp
	bodyMatches  []*regexp.Regexp
}

// Values is a header's values: a YAML string or a list of strings.
type Values = Strings

// Strings is a list of strings, or a single string for a list of one.
type Strings []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (v *Strings) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*v = Strings{n.Value}
		return nil
	case yaml.SequenceNode:
		out := make(Strings, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: want a string, or a list of strings", c.Line)
			}
			out = append(out, c.Value)
		}
		*v = out
		return nil
	}
	return fmt.Errorf("line %d: want a string, or a list of strings", n.Line)
}

// Duration is a time.Duration written as Go spells it ("1.5s").
type Duration time.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v <= 0 {
		return fmt.Errorf("line %d: %q is not a positive duration (write 250ms, 2s)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Load reads and validates a case file. Its errors name the file, and the
// case and field (or the line) that is wrong.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("case file %s: no such file", path)
		}
		return nil, fmt.Errorf("case file %s: %w", path, err)
	}
	f, err := Parse(path, b)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Parse decodes and validates the case file b, read from path (body_file
// entries are relative to its directory).
func Parse(path string, b []byte) (*File, error) {
	f := &File{Path: path}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("case file %s is empty: it needs a list of cases under \"cases:\"", path)
		}
		return nil, decodeError(path, b, err)
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("case file %s has no cases: list them under \"cases:\"", path)
	}
	seen := map[string]bool{}
	for i, c := range f.Cases {
		if c == nil {
			return nil, fmt.Errorf("case file %s: case %d is empty", path, i+1)
		}
		where := fmt.Sprintf("case file %s: case %d", path, i+1)
		if c.Name != "" {
			where += fmt.Sprintf(" (%q)", c.Name)
		}
		if err := c.validate(filepath.Dir(path)); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("%s: name: another case already has this name", where)
		}
		seen[c.Name] = true
	}
	return f, nil
}

// yamlError strips the decoder's Go type names, which mean nothing to the
// author of a case file.
func yamlError(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.ReplaceAll(s, "unmarshal errors:\n  ", "")
	s = strings.ReplaceAll(s, "\n  ", "; ")
	s = typeName.ReplaceAllString(s, "")
	return s
}

var typeName = regexp.MustCompile(` in type conformance\.\w+| into conformance\.\w+`)

// validate checks c and prepares its regular expressions and body.
func (c *Case) validate(dir string) error {
	if c.Name == "" {
		return errors.New("name: missing (every case needs a name)")
	}
	r := &c.Request
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	if !token(r.Method) {
		return fmt.Errorf("request.method: %q is not an HTTP method", r.Method)
	}
	if r.Path == "" {
		return errors.New("request.path: missing (write the path and query, e.g. /users?id=1)")
	}
	if !strings.HasPrefix(r.Path, "/") {
		return fmt.Errorf("request.path: %q must begin with /", r.Path)
	}
	if strings.ContainsAny(r.Path, " \t\r\n#") {
		return fmt.Errorf("request.path: %q holds a space, control character or fragment: percent-encode it", r.Path)
	}
	if err := headerNames("request.headers", r.Headers); err != nil {
		return err
	}
	if err := headerNames("request.trailers", r.Trailers); err != nil {
		return err
	}
	switch {
	case r.Body != nil && r.BodyFile != "":
		return errors.New("request: body and body_file are exclusive: give one")
	case r.Body != nil:
		r.body = []byte(*r.Body)
	case r.BodyFile != "":
		b, err := readRelative(dir, r.BodyFile)
		if err != nil {
			return fmt.Errorf("request.body_file: %w", err)
		}
		r.body = b
	}
	e := &c.Expect
	switch {
	case e.Body != nil && e.BodyFile != "":
		return errors.New("expect: body and body_file are exclusive: give one")
	case e.BodyFile != "":
		b, err := readRelative(dir, e.BodyFile)
		if err != nil {
			return fmt.Errorf("expect.body_file: %w", err)
		}
		s := string(b)
		e.Body = &s
	}
	if e.Status != 0 && (e.Status < 100 || e.Status > 599) {
		return fmt.Errorf("expect.status: %d is not an HTTP status (100 to 599)", e.Status)
	}
	if err := headerNames("expect.headers", e.Headers); err != nil {
		return err
	}
	if err := headerNames("expect.trailers", e.Trailers); err != nil {
		return err
	}
	e.headersMatch = map[string]*regexp.Regexp{}
	for name, re := range e.HeadersMatch {
		if !token(name) {
			return fmt.Errorf("expect.headers_match: %q is not a header name", name)
		}
		rx, err := regexp.Compile(re)
		if err != nil {
			return fmt.Errorf("expect.headers_match.%s: %w", name, err)
		}
		e.headersMatch[name] = rx
	}
	for _, name := range e.HeadersAbsent {
		if !token(name) {
			return fmt.Errorf("expect.headers_absent: %q is not a header name", name)
		}
	}
	for i, re := range e.BodyMatches {
		rx, err := regexp.Compile(re)
		if err != nil {
			return fmt.Errorf("expect.body_matches[%d]: %w", i, err)
		}
		e.bodyMatches = append(e.bodyMatches, rx)
	}
	if e.BodyJSON != nil {
		// Through JSON, so that YAML's ints compare with JSON's numbers.
		b, err := json.Marshal(e.BodyJSON)
		if err != nil {
			return fmt.Errorf("expect.body_json: %w", err)
		}
		var v any
		json.Unmarshal(b, &v)
		e.BodyJSON = v
	}
	return nil
}

// readRelative reads the file p, relative to dir unless absolute.
func readRelative(dir, p string) ([]byte, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return os.ReadFile(p)
}

func headerNames(field string, h map[string]Values) error {
	for name := range h {
		if !token(name) {
			return fmt.Errorf("%s: %q is not a header name", field, name)
		}
	}
	return nil
}

// token reports whether s is an RFC 9110 token (a method or header name).
func token(s string) bool {
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
