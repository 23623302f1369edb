package guest

// This file has no build constraint so that it runs natively: it reads the
// SDK's import declarations as source.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/abi"
	contract "github.com/wasmserve/wasmserve/abi/outbound"
)

// TestImportsMatchTables keeps the SDK's //go:wasmimport declarations in
// step with the contract: every function of a table declared once, with the
// signature the Go types lower to.
func TestImportsMatchTables(t *testing.T) {
	for _, tc := range []struct {
		file, module string
		table        abi.Table
	}{
		{"imports.go", abi.ModuleName, abi.Functions},
		{"outbound/imports.go", contract.ModuleName, contract.Functions},
	} {
		t.Run(tc.module, func(t *testing.T) {
			f, err := parser.ParseFile(token.NewFileSet(), tc.file, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			declared := map[string]bool{}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Doc == nil {
					continue
				}
				for _, c := range fd.Doc.List {
					directive, ok := strings.CutPrefix(c.Text, "//go:wasmimport ")
					if !ok {
						continue
					}
					module, name, _ := strings.Cut(directive, " ")
					if module != tc.module {
						t.Errorf("%s imports from %s", fd.Name.Name, module)
						continue
					}
					if declared[name] {
						t.Errorf("%s is declared twice", name)
					}
					declared[name] = true
					want, ok := tc.table.Lookup(name)
					if !ok {
						t.Errorf("%s imports %s, which the table does not list", fd.Name.Name, name)
						continue
					}
					got := abi.Signature{Params: lower(t, fd.Type.Params), Results: lower(t, fd.Type.Results)}
					if got.String() != want.Signature.String() {
						t.Errorf("%s imports %s%s, the table says %s", fd.Name.Name, name, got, want.Signature)
					}
				}
			}
			for _, fn := range tc.table {
				if !declared[fn.Name] {
					t.Errorf("%s is not declared", fn.Name)
				}
			}
		})
	}
}

// enums are the contract's named types the declarations use, by how they
// are spelled there.
var enums = map[string]reflect.Kind{
	"abi.Features":   reflect.TypeFor[abi.Features]().Kind(),
	"abi.LogLevel":   reflect.TypeFor[abi.LogLevel]().Kind(),
	"abi.HeaderKind": reflect.TypeFor[abi.HeaderKind]().Kind(),
	"abi.BodyKind":   reflect.TypeFor[abi.BodyKind]().Kind(),
	"contract.Flags": reflect.TypeFor[contract.Flags]().Kind(),
}

// lower returns the value types Go lowers fields to for wasmimport: a
// pointer or a 32-bit integer is an i32, a 64-bit integer an i64, a string
// a pointer and a length.
func lower(t *testing.T, fields *ast.FieldList) []abi.ValueType {
	if fields == nil {
		return nil
	}
	var out []abi.ValueType
	for _, f := range fields.List {
		n := max(len(f.Names), 1)
		for range n {
			var kind reflect.Kind
			switch e := f.Type.(type) {
			case *ast.StarExpr:
				kind = reflect.Pointer
			case *ast.Ident:
				kind = map[string]reflect.Kind{"string": reflect.String, "int32": reflect.Int32,
					"uint32": reflect.Uint32, "int64": reflect.Int64, "uint64": reflect.Uint64}[e.Name]
			case *ast.SelectorExpr:
				kind = enums[e.X.(*ast.Ident).Name+"."+e.Sel.Name]
			}
			switch kind {
			case reflect.Pointer, reflect.Int32, reflect.Uint32:
				out = append(out, abi.I32)
			case reflect.Int64, reflect.Uint64:
				out = append(out, abi.I64)
			case reflect.String:
				out = append(out, abi.I32, abi.I32)
			default:
				t.Errorf("a wasmimport of type %T %v, which this test does not know", f.Type, f.Type)
			}
		}
	}
	return out
}
