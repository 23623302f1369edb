package binary

import "fmt"

// Sort is an index space of a component: one of the core sorts (a core
// module's functions, tables, memories, globals, tags, core types, core
// modules, core instances) or a component sort (functions, values, types,
// components, instances). A linker keeps one index space per Sort and
// appends to it in definition order; [Def] says which definition adds to
// which.
type Sort uint8

// The sorts, in the order of the binary format's core:sort and sort.
const (
	SortCoreFunc Sort = iota
	SortCoreTable
	SortCoreMemory
	SortCoreGlobal
	SortCoreTag
	SortCoreType
	SortCoreModule
	SortCoreInstance
	SortFunc
	SortValue
	SortType
	SortComponent
	SortInstance

	// NumSorts is the number of sorts: an array [NumSorts]T holds one
	// entry per index space.
	NumSorts
)

var sortNames = [NumSorts]string{
	"core func", "core table", "core memory", "core global", "core tag", "core type",
	"core module", "core instance", "func", "value", "type", "component", "instance",
}

// String names the sort as the text format does ("core func", "instance").
func (s Sort) String() string {
	if s < NumSorts {
		return sortNames[s]
	}
	return fmt.Sprintf("sort(%d)", uint8(s))
}

// IsCore reports whether s is an index space of core definitions.
func (s Sort) IsCore() bool { return s <= SortCoreInstance }

// coreSort reads a core:sort byte.
func (r *reader) coreSort() (Sort, error) {
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch {
	case c <= 0x04:
		return SortCoreFunc + Sort(c), nil
	case c >= 0x10 && c <= 0x12:
		return SortCoreType + Sort(c-0x10), nil
	}
	return 0, errorf(start, "unknown core sort 0x%02x", c)
}

// sort reads a sort: 0x00 and a core sort, or a component sort.
func (r *reader) sort() (Sort, error) {
	start := r.pos
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	if c == 0x00 {
		return r.coreSort()
	}
	if c >= 0x01 && c <= 0x05 {
		return SortFunc + Sort(c-1), nil
	}
	return 0, errorf(start, "unknown sort 0x%02x", c)
}

// SortIndex is a reference to the Index-th definition of the index space
// Sort.
type SortIndex struct {
	// Sort is the index space.
	Sort Sort
	// Index is the position in it.
	Index uint32
}

// String writes the reference as the text format does: "(func 3)".
func (s SortIndex) String() string { return fmt.Sprintf("(%s %d)", s.Sort, s.Index) }

// sortIndex reads a sortidx (core or not).
func (r *reader) sortIndex(core bool) (SortIndex, error) {
	var si SortIndex
	var err error
	if core {
		si.Sort, err = r.coreSort()
	} else {
		si.Sort, err = r.sort()
	}
	if err != nil {
		return si, err
	}
	si.Index, err = r.u32()
	return si, err
}
