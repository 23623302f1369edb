package binary

import (
	"fmt"
	"strings"
)

// Def is one entry of an index space: the Index-th item of Sort and the
// definition that added it.
type Def struct {
	// Sort is the index space.
	Sort Sort
	// Index is the item's position in it.
	Index uint32
	// Section is the section of the definition.
	Section Section
	// Item is the definition: the *CoreModuleSection of a core module, a
	// *CoreInstance, a *CoreSubType or *CoreModuleType, the nested
	// *Component, an *Instance, an *Alias, a Type, a *Canon, the *Start
	// whose results are values, an *Import, an *Export or a *Value. It
	// points into the Component.
	Item any
}

// IndexSpaces returns the component's index spaces: for every sort, the
// definitions of its items in index order, as the component's sections
// add them (imports, exports and aliases included). The definitions of
// nested components and of component and instance types belong to their
// own scopes and are not listed.
func (c *Component) IndexSpaces() [NumSorts][]Def {
	var spaces [NumSorts][]Def
	for _, d := range c.definitions() {
		if d.Sort < NumSorts {
			spaces[d.Sort] = append(spaces[d.Sort], d)
		}
	}
	return spaces
}

// definitions lists the component's definitions in order, each with its
// index in its sort; a custom section is listed with the sort NumSorts.
func (c *Component) definitions() []Def {
	var defs []Def
	var counts [NumSorts + 1]uint32
	add := func(s Sort, sec Section, item any) {
		defs = append(defs, Def{Sort: s, Index: counts[s], Section: sec, Item: item})
		counts[s]++
	}
	for _, sec := range c.Sections {
		switch s := sec.(type) {
		case *CustomSection:
			add(NumSorts, s, s)
		case *CoreModuleSection:
			add(SortCoreModule, s, s)
		case *CoreInstanceSection:
			for i := range s.Instances {
				add(SortCoreInstance, s, &s.Instances[i])
			}
		case *CoreTypeSection:
			for _, t := range s.Types {
				switch t := t.(type) {
				case *CoreRecType:
					for i := range t.Types {
						add(SortCoreType, s, &t.Types[i])
					}
				default:
					add(SortCoreType, s, t)
				}
			}
		case *ComponentSection:
			add(SortComponent, s, s.Component)
		case *InstanceSection:
			for i := range s.Instances {
				add(SortInstance, s, &s.Instances[i])
			}
		case *AliasSection:
			for i := range s.Aliases {
				add(s.Aliases[i].Target, s, &s.Aliases[i])
			}
		case *TypeSection:
			for _, t := range s.Types {
				add(SortType, s, t)
			}
		case *CanonSection:
			for i := range s.Canons {
				add(s.Canons[i].Sort(), s, &s.Canons[i])
			}
		case *StartSection:
			for range s.Start.Results {
				add(SortValue, s, &s.Start)
			}
		case *ImportSection:
			for i := range s.Imports {
				add(s.Imports[i].Type.Sort, s, &s.Imports[i])
			}
		case *ExportSection:
			for i := range s.Exports {
				add(s.Exports[i].Ref.Sort, s, &s.Exports[i])
			}
		case *ValueSection:
			for i := range s.Values {
				add(SortValue, s, &s.Values[i])
			}
		}
	}
	return defs
}

// Imports returns the component's own imports, in order.
func (c *Component) Imports() []Import {
	var out []Import
	for _, sec := range c.Sections {
		if s, ok := sec.(*ImportSection); ok {
			out = append(out, s.Imports...)
		}
	}
	return out
}

// Exports returns the component's own exports, in order.
func (c *Component) Exports() []Export {
	var out []Export
	for _, sec := range c.Sections {
		if s, ok := sec.(*ExportSection); ok {
			out = append(out, s.Exports...)
		}
	}
	return out
}

// Custom returns the data of the component's first custom section named
// name, and whether there is one.
func (c *Component) Custom(name string) ([]byte, bool) {
	for _, sec := range c.Sections {
		if s, ok := sec.(*CustomSection); ok && s.Name == name {
			return s.Data, true
		}
	}
	return nil, false
}

// String writes the import as the text format does:
// (import "wasi:http/types@0.2.0" (instance (type 3))).
func (i Import) String() string {
	return fmt.Sprintf("(import %q%s %s)", i.Name, i.Attributes, i.Type)
}

// String writes the export as the text format does:
// (export "wasi:http/incoming-handler@0.2.0" (instance 4)).
func (e Export) String() string {
	s := fmt.Sprintf("(export %q%s %s", e.Name, e.Attributes, e.Ref)
	if e.Type != nil {
		s += " " + e.Type.String()
	}
	return s + ")"
}

// String writes the attributes that are present as the text format
// does, each after a space: ` (implements "wasi:keyvalue/store")`.
func (a Attributes) String() string {
	var b strings.Builder
	if a.Implements != "" {
		fmt.Fprintf(&b, " (implements %q)", a.Implements)
	}
	if a.VersionSuffix != "" {
		fmt.Fprintf(&b, " (versionsuffix %q)", a.VersionSuffix)
	}
	if a.ExternalID != "" {
		fmt.Fprintf(&b, " (external-id %q)", a.ExternalID)
	}
	return b.String()
}
