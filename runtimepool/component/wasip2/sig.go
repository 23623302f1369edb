package wasip2

import (
	"context"
	"fmt"
	"strings"

	"github.com/wasmserve/wasmserve/runtimepool/component"
	"github.com/wasmserve/wasmserve/runtimepool/component/cabi"
)

// names resolves the type names a WIT signature uses: a *cabi.Type for a
// named type, a *cabi.Resource for a resource (a bare resource name is an
// own handle, as in WIT).
type names map[string]any

// callFunc is the Go side of a host function.
type callFunc = func(ctx context.Context, args []any) ([]any, error)

// fn builds a host function from its WIT signature,
// "func(len: u64) -> result<list<u8>, stream-error>". A signature that
// does not parse is a bug of this package: fn panics.
func (ns names) fn(sig string, call callFunc) *component.HostFunc {
	p := &sigParser{ns: ns, toks: tokenize(sig), sig: sig}
	f := &component.HostFunc{Call: call}
	p.expect("func")
	p.expect("(")
	for p.peek() != ")" {
		name := p.next()
		p.expect(":")
		f.Params = append(f.Params, component.Param{Name: name, Type: p.typ()})
		if p.peek() == "," {
			p.next()
		}
	}
	p.expect(")")
	if p.peek() == "->" {
		p.next()
		f.Results = []*cabi.Type{p.typ()}
	}
	if p.peek() != "" {
		p.fail("trailing " + p.peek())
	}
	for _, prm := range f.Params {
		if err := prm.Type.Check(); err != nil {
			p.fail(err.Error())
		}
	}
	for _, r := range f.Results {
		if err := r.Check(); err != nil {
			p.fail(err.Error())
		}
	}
	return f
}

// method builds "[method]res.name" style functions: sig without self,
// which is prepended as borrow<res>.
func (ns names) method(res *cabi.Resource, sig string, call callFunc) *component.HostFunc {
	f := ns.fn(sig, call)
	self := component.Param{Name: "self", Type: &cabi.Type{Kind: cabi.KindBorrow, Resource: res}}
	f.Params = append([]component.Param{self}, f.Params...)
	return f
}

type sigParser struct {
	ns   names
	toks []string
	sig  string
}

func tokenize(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '>':
			out = append(out, "->")
			i += 2
		case strings.IndexByte("(),:<>", c) >= 0:
			out = append(out, string(c))
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\n(),:<>", s[j]) < 0 && !(s[j] == '-' && j+1 < len(s) && s[j+1] == '>') {
				j++
			}
			out = append(out, strings.TrimPrefix(s[i:j], "%"))
			i = j
		}
	}
	return out
}

func (p *sigParser) fail(msg string) {
	panic(fmt.Sprintf("wasip2: signature %q: %s", p.sig, msg))
}

func (p *sigParser) peek() string {
	if len(p.toks) == 0 {
		return ""
	}
	return p.toks[0]
}

func (p *sigParser) next() string {
	if len(p.toks) == 0 {
		p.fail("unexpected end")
	}
	t := p.toks[0]
	p.toks = p.toks[1:]
	return t
}

func (p *sigParser) expect(tok string) {
	if got := p.next(); got != tok {
		p.fail(fmt.Sprintf("%q where %q belongs", got, tok))
	}
}

var primitives = map[string]*cabi.Type{
	"bool": cabi.BoolType, "s8": cabi.S8Type, "u8": cabi.U8Type, "s16": cabi.S16Type, "u16": cabi.U16Type,
	"s32": cabi.S32Type, "u32": cabi.U32Type, "s64": cabi.S64Type, "u64": cabi.U64Type,
	"f32": cabi.F32Type, "f64": cabi.F64Type, "char": cabi.CharType, "string": cabi.StringType,
}

// typ parses one type; "_" (an absent payload) is nil.
func (p *sigParser) typ() *cabi.Type {
	name := p.next()
	if t, ok := primitives[name]; ok {
		return t
	}
	switch name {
	case "_":
		return nil
	case "list", "option":
		p.expect("<")
		elem := p.typ()
		p.expect(">")
		if name == "list" {
			return cabi.ListOf(elem)
		}
		return cabi.OptionOf(elem)
	case "result":
		if p.peek() != "<" {
			return cabi.ResultOf(nil, nil)
		}
		p.next()
		ok := p.typ()
		var e *cabi.Type
		if p.peek() == "," {
			p.next()
			e = p.typ()
		}
		p.expect(">")
		return cabi.ResultOf(ok, e)
	case "tuple":
		p.expect("<")
		var elems []*cabi.Type
		for {
			elems = append(elems, p.typ())
			if p.peek() != "," {
				break
			}
			p.next()
		}
		p.expect(">")
		return cabi.TupleOf(elems...)
	case "own", "borrow":
		p.expect("<")
		r, ok := p.ns[p.next()].(*cabi.Resource)
		if !ok {
			p.fail(name + " of something not a resource")
		}
		p.expect(">")
		kind := cabi.KindOwn
		if name == "borrow" {
			kind = cabi.KindBorrow
		}
		return &cabi.Type{Kind: kind, Resource: r}
	}
	switch v := p.ns[name].(type) {
	case *cabi.Type:
		return v
	case *cabi.Resource:
		return &cabi.Type{Kind: cabi.KindOwn, Resource: v}
	}
	p.fail("unknown type " + name)
	return nil
}

// Helpers to build the named types of the interfaces.

func enumType(name string, labels ...string) *cabi.Type {
	return &cabi.Type{Kind: cabi.KindEnum, Name: name, Labels: labels}
}

func flagsType(name string, labels ...string) *cabi.Type {
	return &cabi.Type{Kind: cabi.KindFlags, Name: name, Labels: labels}
}

func recordType(name string, fields ...cabi.Field) *cabi.Type {
	return &cabi.Type{Kind: cabi.KindRecord, Name: name, Fields: fields}
}

func variantType(name string, cases ...cabi.Case) *cabi.Type {
	return &cabi.Type{Kind: cabi.KindVariant, Name: name, Cases: cases}
}

// labelIndex returns the index of label in an enum or flags type; a
// missing label is a bug of this package.
func labelIndex(t *cabi.Type, label string) uint32 {
	for i, l := range t.Labels {
		if l == label {
			return uint32(i)
		}
	}
	panic("wasip2: " + t.Name + " has no label " + label)
}
