package conformance

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wasmserve/wasmserve/internal/suggest"
)

// formatHint ends the message of a case file that does not decode.
const formatHint = "(wasmserve test --schema prints the format)"

// Messages of the YAML decoder, to be said again in a case file's terms.
var (
	atLine       = regexp.MustCompile(`^line ([0-9]+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type conformance\.(\w+)$`)
	cannotDecode = regexp.MustCompile("^cannot unmarshal !!(\\w+) (`(.*)` )?into (\\S+)$")
)

// types are the Go types of a case file by the name the decoder gives them,
// with what the file calls them.
var types = map[string]struct {
	t    reflect.Type
	name string
}{
	"File":    {reflect.TypeFor[File](), "the file"},
	"Case":    {reflect.TypeFor[Case](), "a case"},
	"Request": {reflect.TypeFor[Request](), "request"},
	"Expect":  {reflect.TypeFor[Expect](), "expect"},
}

// decodeError says what is wrong in the case file b at path, from the
// decoder's error: for each problem the case (its number and name), the
// field (its path, such as expect.status) and the line; what is wrong; and
// the field meant, for one that does not exist.
func decodeError(path string, b []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("case file %s: %s %s", path, yamlError(err), formatHint)
	}
	var root yaml.Node
	yaml.Unmarshal(b, &root) // what decoded into types decodes into nodes
	var msgs []string
	for _, e := range te.Errors {
		m := atLine.FindStringSubmatch(e)
		if m == nil {
			msgs = append(msgs, yamlError(errors.New(e)))
			continue
		}
		line, _ := strconv.Atoi(m[1])
		what, hint := m[2], ""
		if u := unknownField.FindStringSubmatch(what); u != nil {
			hint = u[1]
			what = "not a field of " + types[u[2]].name
			if near := suggest.Nearest(u[1], fieldsOf(u[2])); near != "" {
				what += fmt.Sprintf("; did you mean %s?", near)
			} else {
				what += " (its fields: " + strings.Join(fieldsOf(u[2]), ", ") + ")"
			}
		} else if c := cannotDecode.FindStringSubmatch(what); c != nil {
			hint = c[3]
			what = "want " + kindOf(c[4]) + ", not " + yamlKind(c[1], c[3])
		} else {
			what = yamlError(errors.New(what))
		}
		msgs = append(msgs, locate(&root, line, hint)+what)
	}
	return fmt.Errorf("case file %s: %s %s", path, strings.Join(msgs, "; "), formatHint)
}

// locate says where line is in the file: the case and the field, and the
// line itself. hint is the key or scalar value the problem is about, which
// picks the field among several on one line.
func locate(root *yaml.Node, line int, hint string) string {
	lineText := fmt.Sprintf("line %d: ", line)
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	cases := valueOf(doc, "cases")
	if cases == nil || cases.Kind != yaml.SequenceNode {
		if f := fieldAt(doc, line, "", hint); f != "" {
			return f + " (" + strings.TrimSuffix(lineText, ": ") + "): "
		}
		return lineText
	}
	for i, c := range cases.Content {
		if c.Line > line || (i+1 < len(cases.Content) && cases.Content[i+1].Line <= line) {
			continue
		}
		where := fmt.Sprintf("case %d", i+1)
		if n := valueOf(c, "name"); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" {
			where += fmt.Sprintf(" (%q)", n.Value)
		}
		if f := fieldAt(c, line, "", hint); f != "" {
			where += ", " + f
		}
		return where + " (" + strings.TrimSuffix(lineText, ": ") + "): "
	}
	return lineText
}

// valueOf returns the value of key in the mapping n, or nil.
func valueOf(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// fieldAt returns the path (request.headers) of the deepest key of the
// mapping n on line, preferring one named hint or whose value is hint; ""
// when none is.
func fieldAt(n *yaml.Node, line int, prefix, hint string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	found, exact := "", false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := k.Value
		if prefix != "" {
			p = prefix + "." + k.Value
		}
		if deeper := fieldAt(v, line, p, hint); deeper != "" {
			return deeper
		}
		if k.Line != line && v.Line != line {
			continue
		}
		if hint != "" && (k.Value == hint || (v.Kind == yaml.ScalarNode && sameValue(v.Value, hint))) {
			found, exact = p, true
		} else if found == "" || !exact && v.Kind != yaml.MappingNode {
			found = p
		}
	}
	return found
}

// sameValue reports whether the scalar v is the value hint of a decoder's
// message, which cuts long values with "...".
func sameValue(v, hint string) bool {
	if cut, ok := strings.CutSuffix(hint, "..."); ok {
		return strings.HasPrefix(v, cut)
	}
	return v == hint
}

// fieldsOf lists the fields of the case file type the decoder names typ.
func fieldsOf(typ string) []string {
	t, ok := types[typ]
	if !ok {
		return nil
	}
	var names []string
	for i := range t.t.NumField() {
		if tag := t.t.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			names = append(names, strings.Split(tag, ",")[0])
		}
	}
	return names
}

// kindOf says what a value of the Go type the decoder names is, in a case
// file's terms.
func kindOf(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case goType == "string", goType == "*string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "map["):
		return "a mapping of names to values"
	case strings.HasPrefix(goType, "[]"), strings.HasSuffix(goType, ".Strings"):
		return "a list"
	}
	return "another kind of value"
}

// yamlKind says what a YAML value of the tag is, with the value.
func yamlKind(tag, value string) string {
	name := map[string]string{"str": "the string", "int": "the number", "float": "the number", "bool": "",
		"map": "a mapping", "seq": "a list", "null": "nothing"}[tag]
	switch {
	case name == "" && value != "":
		return value
	case value != "":
		return name + " " + strconv.Quote(value)
	case name != "":
		return name
	}
	return "a " + tag
}
