package conformance

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

func compileSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	path := testguest.Path("conformance/cases.schema.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("cases.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("cases.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	var raw map[string]any
	json.Unmarshal(b, &raw)
	return s, raw
}

// asJSON turns a YAML document into the values a JSON decoder gives.
func asJSON(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSchemaAgreesWithLoad: every case file of the repository that Load
// accepts, the schema accepts, and the bad ones of the command's tests
// (wrong field, both bodies, a status out of range, no name, no path) it
// rejects as Load does.
func TestSchemaAgreesWithLoad(t *testing.T) {
	s, _ := compileSchema(t)
	root := testguest.Root()
	good, _ := filepath.Glob(filepath.Join(root, "guest-examples", "*", "cases.yaml"))
	good = append(good, filepath.Join(root, "conformance", "cases.yaml"),
		filepath.Join(root, "cmd", "wasmserve", "testdata", "cases", "failing.yaml"))
	if len(good) < 5 {
		t.Fatalf("found only %v", good)
	}
	for _, p := range good {
		if _, err := Load(p); err != nil {
			t.Errorf("Load: %v", err)
		}
		if err := s.Validate(asJSON(t, p)); err != nil {
			t.Errorf("%s: the schema rejects it: %v", p, err)
		}
	}
	for _, name := range []string{"badfield", "twobodies", "badstatus", "noname", "nopath"} {
		p := filepath.Join(root, "cmd", "wasmserve", "testdata", "cases", name+".yaml")
		if _, err := Load(p); err == nil {
			t.Errorf("Load accepts %s", name)
		}
		if err := s.Validate(asJSON(t, p)); err == nil {
			t.Errorf("the schema accepts %s", name)
		}
	}
}

// TestSchemaNamesEveryField: the schema's properties are the YAML fields of
// the Go types, no more and no fewer.
func TestSchemaNamesEveryField(t *testing.T) {
	_, raw := compileSchema(t)
	defs := raw["$defs"].(map[string]any)
	for def, typ := range map[string]reflect.Type{
		"case":    reflect.TypeFor[Case](),
		"request": reflect.TypeFor[Request](),
		"expect":  reflect.TypeFor[Expect](),
	} {
		var schema, fields []string
		for k := range defs[def].(map[string]any)["properties"].(map[string]any) {
			schema = append(schema, k)
		}
		for i := range typ.NumField() {
			if tag := typ.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
				fields = append(fields, strings.Split(tag, ",")[0])
			}
		}
		slices.Sort(schema)
		slices.Sort(fields)
		if !slices.Equal(schema, fields) {
			t.Errorf("%s: schema has %v, the Go type %v", def, schema, fields)
		}
	}
}
