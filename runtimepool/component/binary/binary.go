// Package binary decodes the binary format of a WebAssembly component (the
// component model's design/mvp/Binary.md, version 0x0d, layer 1) into an
// AST that a linker walks in definition order.
//
// [Decode] reads a whole component, nested components included, and keeps
// its sections in order ([Component.Sections]); each definition says which
// index space ([Sort]) it adds to, and [Component.IndexSpaces] lists every
// index space's definitions. Core modules are kept as the bytes of the
// module, not parsed. Decoding checks the binary's structure, not its
// validity: indices are not resolved and types are not checked, which is
// the linker's job.
//
// Decode refuses hostile input cheaply: every count is checked against
// the bytes left before anything is allocated for it, a component holds at
// most MaxItems items in all, nesting is at most MaxDepth deep, and every
// LEB128 number is checked for truncation and overflow. Errors are *Error,
// naming the section and the offset of the byte at fault.
package binary

import (
	"errors"
	"fmt"
)

// MaxDepth is how deep components, component types, instance types and
// core module types may nest in one another.
const MaxDepth = 100

// MaxItems is how many items (sections, definitions, declarations,
// fields, cases, names, options...) one component may hold in all, nested
// components included; it bounds the memory a decoded component takes,
// whatever the input, to some tens of megabytes. A componentize-js HTTP
// handler holds about 1,700.
const MaxItems = 1 << 18

// Preamble is the first 8 bytes of every component of this version: the
// magic \0asm, the version 0x0d 0x00 and the layer 0x01 0x00.
const Preamble = "\x00asm\x0d\x00\x01\x00"

// corePreamble is the first 8 bytes of a core module.
const corePreamble = "\x00asm\x01\x00\x00\x00"

// SectionID is a section's id in the binary format.
type SectionID uint8

// The section ids.
const (
	SectionCustom       SectionID = 0
	SectionCoreModule   SectionID = 1
	SectionCoreInstance SectionID = 2
	SectionCoreType     SectionID = 3
	SectionComponent    SectionID = 4
	SectionInstance     SectionID = 5
	SectionAlias        SectionID = 6
	SectionType         SectionID = 7
	SectionCanon        SectionID = 8
	SectionStart        SectionID = 9
	SectionImport       SectionID = 10
	SectionExport       SectionID = 11
	SectionValue        SectionID = 12
)

var sectionNames = [...]string{"custom", "core module", "core instance", "core type", "component",
	"instance", "alias", "type", "canon", "start", "import", "export", "value"}

// String names the section ("core module", "canon").
func (id SectionID) String() string {
	if int(id) < len(sectionNames) {
		return sectionNames[id]
	}
	return fmt.Sprintf("unknown (id %d)", uint8(id))
}

// Error is a decoding error: what is wrong, in which section, at which
// byte of the input.
type Error struct {
	// Section is the innermost section being read; Preamble is set
	// instead for an error in a component's preamble.
	Section SectionID
	// Preamble is set for an error in the 8 bytes of a component's
	// preamble or before any section.
	Preamble bool
	// Offset is the offset in the input of the byte at fault.
	Offset int
	// Reason says what is wrong.
	Reason string
}

// Error returns "component binary: canon section at offset 0x1f4: ...".
func (e *Error) Error() string {
	where := e.Section.String() + " section"
	if e.Preamble {
		where = "preamble"
	}
	return fmt.Sprintf("component binary: %s at offset %#x: %s", where, e.Offset, e.Reason)
}

// Component is a decoded component: its sections in order.
type Component struct {
	// Offset is where the component's preamble starts in the input: 0 for
	// the outermost one.
	Offset int
	// Sections are the component's sections, custom ones included, in
	// order.
	Sections []Section
}

// Section is one section of a component: a *CustomSection,
// *CoreModuleSection, *CoreInstanceSection, *CoreTypeSection,
// *ComponentSection, *InstanceSection, *AliasSection, *TypeSection,
// *CanonSection, *StartSection, *ImportSection, *ExportSection or
// *ValueSection.
type Section interface {
	// ID is the section's id.
	ID() SectionID
	// Offset is where the section's id byte is in the input.
	Offset() int
}

// at is the offset of a section, embedded in every section.
type at struct{ off int }

// Offset returns where the section's id byte is in the input.
func (a at) Offset() int { return a.off }

// CustomSection is a custom section: a name and bytes, such as the
// component-name section or producers.
type CustomSection struct {
	at
	// Name is the custom section's name.
	Name string
	// Data is the section's content after the name (part of the input).
	Data []byte
}

// ID returns SectionCustom.
func (*CustomSection) ID() SectionID { return SectionCustom }

// CoreModuleSection is a core module, kept as its binary (part of the
// input, preamble included), not parsed. It adds one core module.
type CoreModuleSection struct {
	at
	// Module is the core module's binary.
	Module []byte
}

// ID returns SectionCoreModule.
func (*CoreModuleSection) ID() SectionID { return SectionCoreModule }

// CoreInstanceSection defines core instances, each adding one core
// instance.
type CoreInstanceSection struct {
	at
	// Instances are the section's core instances in order.
	Instances []CoreInstance
}

// ID returns SectionCoreInstance.
func (*CoreInstanceSection) ID() SectionID { return SectionCoreInstance }

// CoreTypeSection defines core types: each adds one core type, a rec
// group one per type in it.
type CoreTypeSection struct {
	at
	// Types are the section's core types in order.
	Types []CoreType
}

// ID returns SectionCoreType.
func (*CoreTypeSection) ID() SectionID { return SectionCoreType }

// ComponentSection is a nested component; it adds one component.
type ComponentSection struct {
	at
	// Component is the nested component.
	Component *Component
}

// ID returns SectionComponent.
func (*ComponentSection) ID() SectionID { return SectionComponent }

// InstanceSection defines instances, each adding one instance.
type InstanceSection struct {
	at
	// Instances are the section's instances in order.
	Instances []Instance
}

// ID returns SectionInstance.
func (*InstanceSection) ID() SectionID { return SectionInstance }

// AliasSection defines aliases, each adding one item to the index space
// of its Target sort.
type AliasSection struct {
	at
	// Aliases are the section's aliases in order.
	Aliases []Alias
}

// ID returns SectionAlias.
func (*AliasSection) ID() SectionID { return SectionAlias }

// TypeSection defines types, each adding one type.
type TypeSection struct {
	at
	// Types are the section's types in order.
	Types []Type
}

// ID returns SectionType.
func (*TypeSection) ID() SectionID { return SectionType }

// CanonSection holds canonical definitions: a lift adds one func, the
// others one core func each.
type CanonSection struct {
	at
	// Canons are the section's definitions in order.
	Canons []Canon
}

// ID returns SectionCanon.
func (*CanonSection) ID() SectionID { return SectionCanon }

// StartSection is a component's start function (of the value proposal);
// it adds Results values.
type StartSection struct {
	at
	// Start is the start definition.
	Start Start
}

// ID returns SectionStart.
func (*StartSection) ID() SectionID { return SectionStart }

// ImportSection holds imports, each adding one item to the index space of
// its type's sort.
type ImportSection struct {
	at
	// Imports are the section's imports in order.
	Imports []Import
}

// ID returns SectionImport.
func (*ImportSection) ID() SectionID { return SectionImport }

// ExportSection holds exports; each adds one item, an alias of what it
// exports, to the index space of its sort.
type ExportSection struct {
	at
	// Exports are the section's exports in order.
	Exports []Export
}

// ID returns SectionExport.
func (*ExportSection) ID() SectionID { return SectionExport }

// ValueSection defines values (of the value proposal), each adding one
// value.
type ValueSection struct {
	at
	// Values are the section's values in order.
	Values []Value
}

// ID returns SectionValue.
func (*ValueSection) ID() SectionID { return SectionValue }

// CoreInstance is a core instance: a core module instantiated with core
// instances as its imports, or a bundle of core items as exports.
type CoreInstance struct {
	// FromExports is set for an instance made of Exports; otherwise it
	// instantiates Module with Args.
	FromExports bool
	// Module is the core module index instantiated.
	Module uint32
	// Args name the core instances (Ref.Sort is SortCoreInstance) that
	// provide the module's imports, by import module name.
	Args []InstantiateArg
	// Exports are the bundle's items, core sorts only.
	Exports []InlineExport
}

// Instance is an instance: a component instantiated with arguments, or a
// bundle of items as exports.
type Instance struct {
	// FromExports is set for an instance made of Exports; otherwise it
	// instantiates Component with Args.
	FromExports bool
	// Component is the component index instantiated.
	Component uint32
	// Args are the component's imports, by name.
	Args []InstantiateArg
	// Exports are the bundle's items.
	Exports []InlineExport
}

// InstantiateArg is an argument of an instantiation: the item Ref given
// for the import Name.
type InstantiateArg struct {
	// Name is the import's name.
	Name string
	// Ref is the item given.
	Ref SortIndex
}

// InlineExport is an item of an instance made of exports.
type InlineExport struct {
	// Name is the export's name.
	Name string
	// Attributes are the name's attributes (component instances only).
	Attributes Attributes
	// Ref is the item exported.
	Ref SortIndex
}

// AliasKind is what an alias refers to.
type AliasKind uint8

// The kinds of aliases.
const (
	// AliasExport is an export of an instance: (alias export i "name").
	AliasExport AliasKind = iota
	// AliasCoreExport is an export of a core instance:
	// (alias core export i "name").
	AliasCoreExport
	// AliasOuter is an item of an enclosing scope: (alias outer ct idx).
	AliasOuter
)

// String names the kind as the text format does ("export",
// "core export", "outer").
func (k AliasKind) String() string {
	switch k {
	case AliasExport:
		return "export"
	case AliasCoreExport:
		return "core export"
	case AliasOuter:
		return "outer"
	}
	return fmt.Sprintf("aliaskind(%d)", uint8(k))
}

// Alias is an alias definition or declaration: it adds one item to the
// index space Target.
type Alias struct {
	// Target is the sort of the aliased item, the index space the alias
	// adds to.
	Target Sort
	// Kind is what the alias refers to.
	Kind AliasKind
	// Instance is the (core) instance index of an export alias.
	Instance uint32
	// Name is the export's name of an export alias.
	Name string
	// Outer is how many scopes out an outer alias reaches (0 is the
	// current one).
	Outer uint32
	// Index is the item's index in that scope's Target index space, of
	// an outer alias.
	Index uint32
}

// Import is an import of a component, or an import declaration of a
// component type.
type Import struct {
	// Name is the import's name as in the binary
	// ("wasi:http/types@0.2.0", "[method]fields.get").
	Name string
	// Attributes are the name's attributes.
	Attributes Attributes
	// Type is what is imported; its sort is the index space the import
	// adds to.
	Type ExternType
}

// Export is an export of a component.
type Export struct {
	// Name is the export's name as in the binary
	// ("wasi:http/incoming-handler@0.2.0").
	Name string
	// Attributes are the name's attributes.
	Attributes Attributes
	// Ref is the item exported; the export adds an item of its sort.
	Ref SortIndex
	// Type is the export's declared type, nil when not given.
	Type *ExternType
}

// Sort returns the sort of the exported item.
func (e *Export) Sort() Sort { return e.Ref.Sort }

// Attributes are the optional attributes of an import's or export's name
// (nameattributes 0x02); empty strings when absent.
type Attributes struct {
	// Implements is the interface the item implements: (implements "in").
	Implements string
	// VersionSuffix is (versionsuffix "vs").
	VersionSuffix string
	// ExternalID is (external-id "n").
	ExternalID string
}

// Start is a start definition: call Func with the values Args; its
// results become Results new values.
type Start struct {
	// Func is the function index.
	Func uint32
	// Args are the value indices of the arguments.
	Args []uint32
	// Results is the number of results.
	Results uint32
}

// Value is a value definition: a value type and the value's encoding,
// kept as bytes (part of the input) since reading it needs the type index
// space.
type Value struct {
	// Type is the value's type.
	Type ValType
	// Data is the value's encoding.
	Data []byte
}

// Decode decodes the component binary b. The result keeps parts of b
// (core modules, custom sections, values): b must not change while it is
// in use. Errors are *Error.
func Decode(b []byte) (*Component, error) {
	r := &reader{b: b, end: len(b), st: &state{items: MaxItems}}
	return r.component()
}

// component reads a component from the preamble to r's end.
func (r *reader) component() (*Component, error) {
	c := &Component{Offset: r.pos}
	if r.left() < len(Preamble) || string(r.b[r.pos:r.pos+4]) != Preamble[:4] {
		return nil, &Error{Preamble: true, Offset: r.pos, Reason: "not a WebAssembly binary (no \\0asm magic)"}
	}
	if got := r.b[r.pos+4 : r.pos+8]; string(got) != Preamble[4:] {
		reason := fmt.Sprintf("version and layer % x, want % x (a component of this version)", got, Preamble[4:])
		if string(got) == corePreamble[4:] {
			reason = "a core module, not a component"
		}
		return nil, &Error{Preamble: true, Offset: r.pos + 4, Reason: reason}
	}
	r.pos += len(Preamble)
	for r.left() > 0 {
		s, err := r.section()
		if err != nil {
			return nil, err
		}
		c.Sections = append(c.Sections, s)
	}
	return c, nil
}

// section reads one section: id, size and content.
func (r *reader) section() (Section, error) {
	start := r.pos
	id := SectionID(r.b[r.pos])
	r.pos++
	fail := func(err error) error {
		var ee *Error
		if errors.As(err, &ee) {
			return err // from a nested component, already placed
		}
		e := &Error{Section: id, Offset: r.pos, Reason: err.Error()}
		var pe *posError
		if errors.As(err, &pe) {
			e.Offset = pe.off
		}
		return e
	}
	if id > SectionValue {
		return nil, &Error{Section: id, Offset: start, Reason: "unknown section id"}
	}
	if r.st.items == 0 {
		return nil, &Error{Section: id, Offset: start, Reason: fmt.Sprintf("more than %d items in the component", MaxItems)}
	}
	r.st.items-- // a section is an item too

	size, err := r.u32()
	if err != nil {
		return nil, fail(err)
	}
	s, err := r.sub(size)
	if err != nil {
		return nil, fail(errorf(start+1, "section size %d exceeds the %d bytes left", size, r.left()))
	}
	sec, err := s.sectionBody(id, at{off: start})
	if err != nil {
		return nil, fail(err)
	}
	if s.left() != 0 {
		return nil, fail(errorf(s.pos, "%d bytes after the section's content", s.left()))
	}
	return sec, nil
}

// sectionBody reads the content of a section of id.
func (r *reader) sectionBody(id SectionID, a at) (Section, error) {
	var err error
	switch id {
	case SectionCustom:
		s := &CustomSection{at: a}
		if s.Name, err = r.name(); err != nil {
			return nil, err
		}
		s.Data, _ = r.bytes(uint32(r.left()))
		return s, nil
	case SectionCoreModule:
		if r.left() < len(corePreamble) || string(r.b[r.pos:r.pos+len(corePreamble)]) != corePreamble {
			return nil, errorf(r.pos, "not a core module (want the preamble % x)", corePreamble)
		}
		m, _ := r.bytes(uint32(r.left()))
		return &CoreModuleSection{at: a, Module: m}, nil
	case SectionCoreInstance:
		s := &CoreInstanceSection{at: a}
		s.Instances, err = vec(r, "core instances", 2, (*reader).coreInstance)
		return s, err
	case SectionCoreType:
		s := &CoreTypeSection{at: a}
		s.Types, err = vec(r, "core types", 1, (*reader).coreType)
		return s, err
	case SectionComponent:
		if err := r.enter("component"); err != nil {
			return nil, err
		}
		defer r.leave()
		c, err := r.component()
		if err != nil {
			return nil, err
		}
		return &ComponentSection{at: a, Component: c}, nil
	case SectionInstance:
		s := &InstanceSection{at: a}
		s.Instances, err = vec(r, "instances", 2, (*reader).instance)
		return s, err
	case SectionAlias:
		s := &AliasSection{at: a}
		s.Aliases, err = vec(r, "aliases", 3, (*reader).alias)
		return s, err
	case SectionType:
		s := &TypeSection{at: a}
		s.Types, err = vec(r, "types", 1, (*reader).typeDef)
		return s, err
	case SectionCanon:
		s := &CanonSection{at: a}
		s.Canons, err = vec(r, "canonical definitions", 1, (*reader).canon)
		return s, err
	case SectionStart:
		s := &StartSection{at: a}
		s.Start, err = r.start()
		return s, err
	case SectionImport:
		s := &ImportSection{at: a}
		s.Imports, err = vec(r, "imports", 3, (*reader).importDef)
		return s, err
	case SectionExport:
		s := &ExportSection{at: a}
		s.Exports, err = vec(r, "exports", 4, (*reader).export)
		return s, err
	case SectionValue:
		s := &ValueSection{at: a}
		s.Values, err = vec(r, "values", 2, (*reader).value)
		return s, err
	}
	return nil, errorf(a.off, "unknown section id %d", id)
}

// vec reads a vector of elements of at least min bytes each with read.
func vec[T any](r *reader, what string, min int, read func(*reader) (T, error)) ([]T, error) {
	n, err := r.count(what, min)
	if err != nil {
		return nil, err
	}
	out := make([]T, n)
	for i := range out {
		if out[i], err = read(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// coreInstance reads a core:instance.
func (r *reader) coreInstance() (CoreInstance, error) {
	var ci CoreInstance
	var err error
	ci.FromExports, ci.Module, ci.Args, ci.Exports, err = r.instanceExpr(true)
	return ci, err
}

// instance reads an instance.
func (r *reader) instance() (Instance, error) {
	var in Instance
	var err error
	in.FromExports, in.Component, in.Args, in.Exports, err = r.instanceExpr(false)
	return in, err
}

// instanceExpr reads a core:instanceexpr (core) or an instanceexpr: 0x00,
// the module or component instantiated and its arguments, or 0x01 and
// inline exports.
func (r *reader) instanceExpr(core bool) (fromExports bool, target uint32, args []InstantiateArg, exports []InlineExport, err error) {
	what := "instance"
	if core {
		what = "core instance"
	}
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return false, 0, nil, nil, err
	}
	switch c {
	case 0x00:
		if target, err = r.u32(); err != nil {
			return false, 0, nil, nil, err
		}
		args, err = vec(r, "instantiation arguments", 3, func(r *reader) (InstantiateArg, error) {
			var a InstantiateArg
			var err error
			if a.Name, err = r.name(); err != nil {
				return a, err
			}
			if !core {
				a.Ref, err = r.sortIndex(false)
				return a, err
			}
			// Core instantiation arguments are core instances only.
			if err = r.expect(0x12, "core instantiation argument sort"); err != nil {
				return a, err
			}
			a.Ref.Sort = SortCoreInstance
			a.Ref.Index, err = r.u32()
			return a, err
		})
		return false, target, args, nil, err
	case 0x01:
		exports, err = vec(r, what+" exports", 3, func(r *reader) (InlineExport, error) {
			var e InlineExport
			var err error
			if core {
				e.Name, err = r.name()
			} else {
				e.Name, e.Attributes, err = r.nameAttributes()
			}
			if err != nil {
				return e, err
			}
			e.Ref, err = r.sortIndex(core)
			return e, err
		})
		return true, 0, nil, exports, err
	}
	return false, 0, nil, nil, errorf(start, "unknown %s 0x%02x", what, c)
}

// alias reads an alias.
func (r *reader) alias() (Alias, error) {
	var a Alias
	var err error
	if a.Target, err = r.sort(); err != nil {
		return a, err
	}
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return a, err
	}
	switch c {
	case 0x00, 0x01:
		a.Kind = AliasExport
		if c == 0x01 {
			a.Kind = AliasCoreExport
		}
		if a.Instance, err = r.u32(); err != nil {
			return a, err
		}
		a.Name, err = r.name()
	case 0x02:
		a.Kind = AliasOuter
		if a.Outer, err = r.u32(); err != nil {
			return a, err
		}
		a.Index, err = r.u32()
	default:
		return a, errorf(start, "unknown alias 0x%02x", c)
	}
	return a, err
}

// nameAttributes reads an import's or export's name and its attributes.
func (r *reader) nameAttributes() (string, Attributes, error) {
	var at Attributes
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return "", at, err
	}
	if c > 0x02 {
		return "", at, errorf(start, "unknown name form 0x%02x", c)
	}
	name, err := r.name()
	if err != nil || c != 0x02 {
		return name, at, err
	}
	n, err := r.count("name attributes", 2)
	if err != nil {
		return name, at, err
	}
	var seen [3]bool
	for range n {
		start := r.pos
		k, err := r.byte()
		if err != nil {
			return name, at, err
		}
		if k > 0x02 {
			return name, at, errorf(start, "unknown name attribute 0x%02x", k)
		}
		if seen[k] {
			return name, at, errorf(start, "name attribute 0x%02x repeated", k)
		}
		seen[k] = true
		v, err := r.name()
		if err != nil {
			return name, at, err
		}
		switch k {
		case 0x00:
			at.Implements = v
		case 0x01:
			at.VersionSuffix = v
		case 0x02:
			at.ExternalID = v
		}
	}
	return name, at, nil
}

// importDef reads an import (or an import declaration).
func (r *reader) importDef() (Import, error) {
	var im Import
	var err error
	if im.Name, im.Attributes, err = r.nameAttributes(); err != nil {
		return im, err
	}
	im.Type, err = r.externType()
	return im, err
}

// export reads an export.
func (r *reader) export() (Export, error) {
	var e Export
	var err error
	if e.Name, e.Attributes, err = r.nameAttributes(); err != nil {
		return e, err
	}
	if e.Ref, err = r.sortIndex(false); err != nil {
		return e, err
	}
	has, err := r.flag("export type")
	if err != nil || !has {
		return e, err
	}
	t, err := r.externType()
	e.Type = &t
	return e, err
}

// start reads a start definition.
func (r *reader) start() (Start, error) {
	var s Start
	var err error
	if s.Func, err = r.u32(); err != nil {
		return s, err
	}
	if s.Args, err = vec(r, "start arguments", 1, (*reader).u32); err != nil {
		return s, err
	}
	at := r.pos
	if s.Results, err = r.u32(); err != nil {
		return s, err
	}
	if s.Results > uint32(r.st.items) {
		return s, errorf(at, "more than %d items in the component", MaxItems)
	}
	r.st.items -= int(s.Results)
	return s, nil
}

// value reads a value definition, keeping the value's encoding as bytes.
func (r *reader) value() (Value, error) {
	var v Value
	var err error
	if v.Type, err = r.valType(); err != nil {
		return v, err
	}
	n, err := r.u32()
	if err != nil {
		return v, err
	}
	v.Data, err = r.bytes(n)
	return v, err
}
