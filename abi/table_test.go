package abi

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestValueTypes: the codes are the binary format's, which wazero's
// api.ValueTypeI32 and api.ValueTypeI64 are too.
func TestValueTypes(t *testing.T) {
	if I32 != 0x7f || I64 != 0x7e {
		t.Errorf("I32 = %#x, I64 = %#x, want 0x7f and 0x7e", byte(I32), byte(I64))
	}
	if s := (Signature{Params: []ValueType{I32, I32}, Results: []ValueType{I64}}).String(); s != "(i32, i32) -> i64" {
		t.Errorf("String = %q", s)
	}
	if s := (Signature{}).String(); s != "() -> ()" {
		t.Errorf("String of the empty signature = %q", s)
	}
	sig := Signature{Params: []ValueType{I32}}
	if !sig.Match([]byte{0x7f}, nil) || sig.Match([]byte{0x7e}, nil) || sig.Match([]byte{0x7f}, []byte{0x7f}) {
		t.Error("Match does not compare every type")
	}
}

// TestTables: every function is listed once, under a name the constants
// give, and Lookup finds it.
func TestTables(t *testing.T) {
	for name, table := range map[string]Table{"Functions": Functions, "Exports": Exports} {
		seen := map[string]bool{}
		for _, f := range table {
			if f.Name == "" || seen[f.Name] {
				t.Errorf("%s: %q is empty or listed twice", name, f.Name)
			}
			seen[f.Name] = true
			if got, ok := table.Lookup(f.Name); !ok || got.Name != f.Name {
				t.Errorf("%s.Lookup(%q) = %v, %v", name, f.Name, got, ok)
			}
		}
	}
	if len(Functions) != 19 {
		t.Errorf("Functions lists %d functions, the ABI has 19", len(Functions))
	}
	if _, ok := Functions.Lookup("teleport"); ok {
		t.Error("Lookup found a function the ABI does not define")
	}
}

// TestCHeader keeps abi/c/http_handler.h, the contract for C guests, in
// step with this package: one declaration per function of Functions, with
// its signature, and the same values for every enum.
func TestCHeader(t *testing.T) {
	b, err := os.ReadFile("c/http_handler.h")
	if err != nil {
		t.Fatal(err)
	}
	header := string(b)
	decl := regexp.MustCompile(`(?m)^HH_IMPORT\("(\w+)"\) (\w+) hh_\w+\(([^)]*)\);$`)
	declared := map[string]bool{}
	for _, m := range decl.FindAllStringSubmatch(header, -1) {
		name, ret, params := m[1], m[2], m[3]
		var sig Signature
		if ret != "void" {
			sig.Results = []ValueType{cType(t, name, ret)}
		}
		if params != "void" {
			for p := range strings.SplitSeq(params, ",") {
				p = strings.TrimSpace(p)
				sig.Params = append(sig.Params, cType(t, name, p[:strings.LastIndexAny(p, " *")+1]))
			}
		}
		want, ok := Functions.Lookup(name)
		switch {
		case !ok:
			t.Errorf("the header declares %s, which Functions does not list", name)
		case sig.String() != want.Signature.String():
			t.Errorf("the header declares %s%s, Functions says %s", name, sig, want.Signature)
		}
		declared[name] = true
	}
	for _, f := range Functions {
		if !declared[f.Name] {
			t.Errorf("the header does not declare %s", f.Name)
		}
	}

	enums := map[string]int64{
		"HH_HEADER_REQUEST":           int64(HeaderKindRequest),
		"HH_HEADER_RESPONSE":          int64(HeaderKindResponse),
		"HH_HEADER_REQUEST_TRAILERS":  int64(HeaderKindRequestTrailers),
		"HH_HEADER_RESPONSE_TRAILERS": int64(HeaderKindResponseTrailers),
		"HH_BODY_REQUEST":             int64(BodyKindRequest),
		"HH_BODY_RESPONSE":            int64(BodyKindResponse),
		"HH_FEATURE_BUFFER_REQUEST":   int64(FeatureBufferRequest),
		"HH_FEATURE_BUFFER_RESPONSE":  int64(FeatureBufferResponse),
		"HH_FEATURE_TRAILERS":         int64(FeatureTrailers),
		"HH_LOG_DEBUG":                int64(LogLevelDebug),
		"HH_LOG_INFO":                 int64(LogLevelInfo),
		"HH_LOG_WARN":                 int64(LogLevelWarn),
		"HH_LOG_ERROR":                int64(LogLevelError),
		"HH_LOG_NONE":                 int64(LogLevelNone),
	}
	value := regexp.MustCompile(`(?m)^\t(HH_\w+) = (-?\d+),$`)
	found := map[string]bool{}
	for _, m := range value.FindAllStringSubmatch(header, -1) {
		want, ok := enums[m[1]]
		if !ok {
			t.Errorf("the header defines %s, which this test does not know", m[1])
			continue
		}
		if v, _ := strconv.ParseInt(m[2], 10, 64); v != want {
			t.Errorf("the header says %s = %d, package abi %d", m[1], v, want)
		}
		found[m[1]] = true
	}
	for name := range enums {
		if !found[name] {
			t.Errorf("the header does not define %s", name)
		}
	}
}

// cType maps a C parameter or result type of the header to its value type:
// 32-bit integers and pointers are i32, 64-bit integers i64.
func cType(t *testing.T, fn, c string) ValueType {
	c = strings.TrimSpace(c)
	switch {
	case strings.HasSuffix(c, "*"), c == "int32_t":
		return I32
	case c == "int64_t":
		return I64
	}
	t.Errorf("%s: unknown C type %q", fn, c)
	return 0
}
