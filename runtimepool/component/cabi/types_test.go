package cabi

import (
	"strings"
	"testing"
)

func TestTypeString(t *testing.T) {
	t.Parallel()
	errorCode := &Type{Kind: KindVariant, Name: "error-code", Cases: []Case{{"access", nil}}}
	fields := &Resource{Name: "fields"}
	tests := []struct {
		t    *Type
		want string
	}{
		{U8Type, "u8"},
		{ListOf(TupleOf(StringType, U8Type)), "list<tuple<string, u8>>"},
		{ResultOf(nil, errorCode), "result<_, error-code>"},
		{ResultOf(U32Type, nil), "result<u32>"},
		{ResultOf(nil, nil), "result"},
		{ResultOf(StringType, U8Type), "result<string, u8>"},
		{OptionOf(&Type{Kind: KindBorrow, Resource: fields}), "option<borrow<fields>>"},
		{&Type{Kind: KindOwn, Resource: &Resource{}}, "own<resource>"},
		{record(Field{"a", U8Type}, Field{"b", CharType}), "record { a: u8, b: char }"},
		{variant(Case{"a", nil}, Case{"b", F64Type}), "variant { a, b(f64) }"},
		{enum("x", "y"), "enum { x, y }"},
		{&Type{Kind: KindFlags, Labels: []string{"read", "write"}}, "flags { read, write }"},
		{&Type{Kind: 99}, "kind(99)"},
	}
	for _, tc := range tests {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	deep := U8Type
	for range maxDepth + 1 {
		deep = ListOf(deep)
	}
	tests := []struct {
		name string
		t    *Type
		want string // "" for valid
	}{
		{"primitive", U8Type, ""},
		{"payloads", variant(Case{"a", nil}, Case{"b", ResultOf(nil, nil)}), ""},
		{"nil", nil, "missing type"},
		{"zero kind", &Type{}, "unknown kind 0"},
		{"list without element", &Type{Kind: KindList}, "missing type"},
		{"empty record", &Type{Kind: KindRecord}, "record without fields"},
		{"empty tuple", &Type{Kind: KindTuple}, "tuple without elements"},
		{"empty variant", &Type{Kind: KindVariant}, "variant without cases"},
		{"empty enum", &Type{Kind: KindEnum}, "enum without cases"},
		{"empty flags", &Type{Kind: KindFlags}, "flags without labels"},
		{"33 flags", &Type{Kind: KindFlags, Labels: make([]string, 33)}, "33 flags, more than 32"},
		{"own without resource", &Type{Kind: KindOwn}, "own without a resource"},
		{"bad field", record(Field{"a", U8Type}, Field{"b", &Type{Kind: KindTuple}}), "field b: tuple without elements"},
		{"bad case", variant(Case{"a", &Type{Kind: KindEnum}}), "case a: enum without cases"},
		{"bad ok", ResultOf(&Type{}, nil), "ok: unknown kind 0"},
		{"bad error", ResultOf(nil, &Type{}), "error: unknown kind 0"},
		{"bad element", TupleOf(U8Type, nil), "element 1: missing type"},
		{"too deep", deep, "nested more than 100 deep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.t.Check()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Check() = %v, want %q", err, tc.want)
			}
		})
	}
}
