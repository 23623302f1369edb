package binary

import (
	"fmt"
	"io"
	"strings"
)

// This file writes the AST in the text format's shape, for messages and
// for Dump. Names are quoted as Go quotes them; indices are numbers.

// String writes the type as the text format does.
func (t *RecordType) String() string {
	var b strings.Builder
	b.WriteString("(record")
	for _, f := range t.Fields {
		fmt.Fprintf(&b, " (field %q %s)", f.Name, f.Type)
	}
	return b.String() + ")"
}

// String writes the type as the text format does.
func (t *VariantType) String() string {
	var b strings.Builder
	b.WriteString("(variant")
	for _, c := range t.Cases {
		fmt.Fprintf(&b, " (case %q", c.Name)
		if c.Type != nil {
			fmt.Fprintf(&b, " %s", *c.Type)
		}
		b.WriteString(")")
	}
	return b.String() + ")"
}

// String writes the type as the text format does.
func (t *ListType) String() string {
	if t.Len > 0 {
		return fmt.Sprintf("(list %s %d)", t.Elem, t.Len)
	}
	return fmt.Sprintf("(list %s)", t.Elem)
}

// String writes the type as the text format does.
func (t *TupleType) String() string {
	var b strings.Builder
	b.WriteString("(tuple")
	for _, e := range t.Types {
		fmt.Fprintf(&b, " %s", e)
	}
	return b.String() + ")"
}

// quoted writes names as a list of quoted strings, each after a space.
func quoted(names []string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, " %q", n)
	}
	return b.String()
}

// String writes the type as the text format does.
func (t *FlagsType) String() string { return "(flags" + quoted(t.Names) + ")" }

// String writes the type as the text format does.
func (t *EnumType) String() string { return "(enum" + quoted(t.Names) + ")" }

// String writes the type as the text format does.
func (t *OptionType) String() string { return fmt.Sprintf("(option %s)", t.Elem) }

// String writes the type as the text format does.
func (t *ResultType) String() string {
	s := "(result"
	if t.OK != nil {
		s += " " + t.OK.String()
	}
	if t.Err != nil {
		s += " (error " + t.Err.String() + ")"
	}
	return s + ")"
}

// String writes the type as the text format does.
func (t *OwnType) String() string { return fmt.Sprintf("(own %d)", t.Resource) }

// String writes the type as the text format does.
func (t *BorrowType) String() string { return fmt.Sprintf("(borrow %d)", t.Resource) }

// optional writes " t" for a type that is there, "" otherwise.
func optional(t *ValType) string {
	if t == nil {
		return ""
	}
	return " " + t.String()
}

// String writes the type as the text format does.
func (t *StreamType) String() string { return "(stream" + optional(t.Elem) + ")" }

// String writes the type as the text format does.
func (t *FutureType) String() string { return "(future" + optional(t.Elem) + ")" }

// String writes the type as the text format does.
func (t *MapType) String() string { return fmt.Sprintf("(map %s %s)", t.Key, t.Value) }

// String writes the type as the text format does.
func (t *ResourceType) String() string {
	if t.Dtor != nil {
		return fmt.Sprintf("(resource (rep %s) (dtor %d))", t.Rep, *t.Dtor)
	}
	return fmt.Sprintf("(resource (rep %s))", t.Rep)
}

// decls writes declarations, each after a space.
func decls[D fmt.Stringer](ds []D) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(" " + d.String())
	}
	return b.String()
}

// String writes the type as the text format does, declarations included.
func (t *ComponentType) String() string { return "(component" + decls(t.Decls) + ")" }

// String writes the type as the text format does, declarations included.
func (t *InstanceType) String() string { return "(instance" + decls(t.Decls) + ")" }

// String writes the declaration as the text format does.
func (d *CoreTypeDecl) String() string { return "(core type " + d.Type.String() + ")" }

// String writes the declaration as the text format does.
func (d *TypeDecl) String() string { return "(type " + d.Type.String() + ")" }

// String writes the declaration as the text format does.
func (e *ExportDecl) String() string {
	return fmt.Sprintf("(export %q%s %s)", e.Name, e.Attributes, e.Type)
}

// String writes the alias as the text format does:
// (alias export 0 "log" (func)), (alias outer 1 3 (type)).
func (a Alias) String() string {
	target := "(" + a.Target.String() + ")"
	switch a.Kind {
	case AliasExport, AliasCoreExport:
		return fmt.Sprintf("(alias %s %d %q %s)", a.Kind, a.Instance, a.Name, target)
	}
	return fmt.Sprintf("(alias outer %d %d %s)", a.Outer, a.Index, target)
}

// String writes the rec group, or its one type, as the text format does.
func (t *CoreRecType) String() string {
	if !t.Group && len(t.Types) == 1 {
		return t.Types[0].String()
	}
	return "(rec" + decls(t.Types) + ")"
}

// String writes the type as the text format does.
func (t CoreSubType) String() string {
	var b strings.Builder
	b.WriteString("(" + t.Kind.String())
	switch t.Kind {
	case CoreFunc:
		if len(t.Params) > 0 {
			b.WriteString(" (param" + decls(t.Params) + ")")
		}
		if len(t.Results) > 0 {
			b.WriteString(" (result" + decls(t.Results) + ")")
		}
	default:
		for _, f := range t.Fields {
			if f.Mutable {
				fmt.Fprintf(&b, " (field (mut %s))", f.Type)
			} else {
				fmt.Fprintf(&b, " (field %s)", f.Type)
			}
		}
	}
	b.WriteString(")")
	if t.Final && len(t.Supers) == 0 {
		return b.String()
	}
	s := "(sub"
	if t.Final {
		s += " final"
	}
	for _, i := range t.Supers {
		s += fmt.Sprintf(" %d", i)
	}
	return s + " " + b.String() + ")"
}

// String writes the type as the text format does, declarations included.
func (t *CoreModuleType) String() string { return "(module" + decls(t.Decls) + ")" }

// String writes the import as the text format does.
func (i *CoreImport) String() string {
	return fmt.Sprintf("(import %q %q %s)", i.Module, i.Name, i.Type)
}

// String writes the export as the text format does.
func (e *CoreExportDecl) String() string { return fmt.Sprintf("(export %q %s)", e.Name, e.Type) }

// String writes the type as the text format does: (func (type 0)),
// (memory 1 2), (global (mut i32)).
func (e CoreExternType) String() string {
	switch e.Sort {
	case SortCoreFunc:
		return fmt.Sprintf("(func (type %d))", e.TypeIndex)
	case SortCoreTag:
		return fmt.Sprintf("(tag (type %d))", e.TypeIndex)
	case SortCoreTable:
		return fmt.Sprintf("(table %s %s)", e.Limits, e.Type)
	case SortCoreMemory:
		return fmt.Sprintf("(memory %s)", e.Limits)
	case SortCoreGlobal:
		if e.Mutable {
			return fmt.Sprintf("(global (mut %s))", e.Type)
		}
		return fmt.Sprintf("(global %s)", e.Type)
	}
	return fmt.Sprintf("(%s)", e.Sort)
}

// String writes the limits as the text format does: "i64 1 2 shared".
func (l Limits) String() string {
	s := fmt.Sprint(l.Min)
	if l.Is64 {
		s = "i64 " + s
	}
	if l.HasMax {
		s += fmt.Sprintf(" %d", l.Max)
	}
	if l.Shared {
		s += " shared"
	}
	return s
}

// String writes the definition as the text format does:
// (canon lift (core func 2) (memory 0) (type 3)).
func (c *Canon) String() string {
	var b strings.Builder
	b.WriteString("(canon " + c.Kind.String())
	switch c.Kind {
	case CanonLift:
		fmt.Fprintf(&b, " (core func %d)", c.Func)
	case CanonLower:
		fmt.Fprintf(&b, " (func %d)", c.Func)
	case CanonTaskReturn:
		if c.Result != nil {
			fmt.Fprintf(&b, " (result %s)", *c.Result)
		}
	case CanonContextGet, CanonContextSet:
		fmt.Fprintf(&b, " %s %d", c.ValType, c.Index)
	case CanonResourceNew, CanonResourceDrop, CanonResourceRep,
		CanonStreamNew, CanonStreamRead, CanonStreamWrite, CanonStreamCancelRead, CanonStreamCancelWrite,
		CanonStreamDropReadable, CanonStreamDropWritable,
		CanonFutureNew, CanonFutureRead, CanonFutureWrite, CanonFutureCancelRead, CanonFutureCancelWrite,
		CanonFutureDropReadable, CanonFutureDropWritable:
		fmt.Fprintf(&b, " %d", c.Type)
	case CanonThreadNewIndirect, CanonThreadSpawnRef, CanonThreadSpawnIndirect:
		fmt.Fprintf(&b, " (type %d)", c.Type)
	}
	if c.Async {
		b.WriteString(" async")
	}
	if c.Cancellable {
		b.WriteString(" cancellable")
	}
	switch c.Kind {
	case CanonThreadNewIndirect, CanonThreadSpawnIndirect:
		fmt.Fprintf(&b, " (table %d)", c.Table)
	case CanonWaitableSetWait, CanonWaitableSetPoll:
		fmt.Fprintf(&b, " (memory %d)", c.Memory)
	}
	b.WriteString(c.Options.String())
	if c.Kind == CanonLift {
		fmt.Fprintf(&b, " (type %d)", c.Type)
	}
	return b.String() + ")"
}

// String writes the options that are set, each after a space, as the
// text format does: " (memory 0) string-encoding=utf16".
func (o CanonOptions) String() string {
	var b strings.Builder
	if o.StringEncoding != UTF8 {
		b.WriteString(" string-encoding=" + o.StringEncoding.String())
	}
	for _, opt := range []struct {
		name string
		idx  *uint32
	}{{"memory", o.Memory}, {"realloc", o.Realloc}, {"post-return", o.PostReturn}} {
		if opt.idx != nil {
			fmt.Fprintf(&b, " (%s %d)", opt.name, *opt.idx)
		}
	}
	if o.Async {
		b.WriteString(" async")
	}
	if o.Callback != nil {
		fmt.Fprintf(&b, " (callback %d)", *o.Callback)
	}
	return b.String()
}

// String writes the instance as the text format does:
// (instantiate 1 (with "host" (core instance 1))), or its exports.
func (ci *CoreInstance) String() string {
	return instanceString(ci.FromExports, ci.Module, ci.Args, ci.Exports)
}

// String writes the instance as the text format does:
// (instantiate 0 (with "f" (func 2))), or its exports.
func (in *Instance) String() string {
	return instanceString(in.FromExports, in.Component, in.Args, in.Exports)
}

// instanceString writes an instance expression.
func instanceString(fromExports bool, target uint32, args []InstantiateArg, exports []InlineExport) string {
	var b strings.Builder
	if fromExports {
		b.WriteString("(exports")
		for _, e := range exports {
			fmt.Fprintf(&b, " (export %q%s %s)", e.Name, e.Attributes, e.Ref)
		}
		return b.String() + ")"
	}
	fmt.Fprintf(&b, "(instantiate %d", target)
	for _, a := range args {
		fmt.Fprintf(&b, " (with %q %s)", a.Name, a.Ref)
	}
	return b.String() + ")"
}

// String writes the start definition as the text format does.
func (s *Start) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "(start %d", s.Func)
	for _, a := range s.Args {
		fmt.Fprintf(&b, " (value %d)", a)
	}
	fmt.Fprintf(&b, " (result %d))", s.Results)
	return b.String()
}

// String writes the value's type and size.
func (v *Value) String() string { return fmt.Sprintf("(value %s (%d bytes))", v.Type, len(v.Data)) }

// Dump writes the component for a person: one line per definition, each
// with the index it takes in its index space (and its name from the
// component-name section, if any) and the definition in the text format's
// shape; nested components indented.
func (c *Component) Dump(w io.Writer) error {
	d := &dumper{w: w}
	d.component(c, "")
	return d.err
}

// dumper writes a Dump, keeping the first write error.
type dumper struct {
	w   io.Writer
	err error
}

func (d *dumper) printf(format string, args ...any) {
	if d.err == nil {
		_, d.err = fmt.Fprintf(d.w, format, args...)
	}
}

func (d *dumper) component(c *Component, indent string) {
	names, _ := c.Names() // the names that could be read
	d.printf("%s(component", indent)
	if names.Component != "" {
		d.printf(" $%s", names.Component)
	}
	d.printf(" ;; at %#x\n", c.Offset)
	in := indent + "  "
	for _, def := range c.definitions() {
		label := fmt.Sprintf("%s %d", def.Sort, def.Index)
		if n := names.Name(def.Sort, def.Index); n != "" {
			label += " $" + n
		}
		switch item := def.Item.(type) {
		case *CoreModuleSection:
			d.printf("%s%s: %d bytes at %#x\n", in, label, len(item.Module), item.Offset())
		case *Component:
			d.printf("%s%s:\n", in, label)
			d.component(item, in+"  ")
		case *CustomSection:
			d.printf("%s(@custom %q (%d bytes))\n", in, item.Name, len(item.Data))
		case fmt.Stringer:
			d.printf("%s%s: %s\n", in, label, item)
		}
	}
	d.printf("%s)\n", indent)
}
