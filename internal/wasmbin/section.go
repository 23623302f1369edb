package wasmbin

import (
	"bytes"
	"fmt"
	"strconv"
)

// The section ids of the binary format (core spec §5.5.2; the tag section
// comes from exception handling).
const (
	SecCustom    byte = 0
	SecType      byte = 1
	SecImport    byte = 2
	SecFunction  byte = 3
	SecTable     byte = 4
	SecMemory    byte = 5
	SecGlobal    byte = 6
	SecExport    byte = 7
	SecStart     byte = 8
	SecElement   byte = 9
	SecCode      byte = 10
	SecData      byte = 11
	SecDataCount byte = 12
	SecTag       byte = 13
)

// The kinds of import and export descriptions.
const (
	ExternFunc   byte = 0
	ExternTable  byte = 1
	ExternMemory byte = 2
	ExternGlobal byte = 3
	ExternTag    byte = 4
)

// SectionName names a section id as the spec does ("import", "code").
func SectionName(id byte) string {
	names := [...]string{"custom", "type", "import", "function", "table", "memory", "global",
		"export", "start", "element", "code", "data", "data count", "tag"}
	if int(id) < len(names) {
		return names[id]
	}
	return "unknown (id " + strconv.Itoa(int(id)) + ")"
}

// SectionRank orders the known sections as the spec requires them to appear
// (the tag section comes between memory and global, the data count section
// between element and code). 0 is a custom section, -1 an unknown id.
func SectionRank(id byte) int {
	switch {
	case id == SecCustom:
		return 0
	case id >= SecType && id <= SecMemory:
		return int(id)
	case id == SecTag:
		return 6
	case id >= SecGlobal && id <= SecElement:
		return int(id) + 1
	case id == SecDataCount:
		return 11
	case id == SecCode || id == SecData:
		return int(id) + 2
	}
	return -1
}

// Section is one section of a module.
type Section struct {
	// ID is the section id.
	ID byte
	// Offset is where the section's contents start in the module.
	Offset int
	// Body is the section's contents, without id and size.
	Body []byte
}

// AppendSection appends to b a section of the given id and contents, its
// size in its shortest form.
func AppendSection(b []byte, id byte, body []byte) []byte {
	b = AppendU32(append(b, id), uint32(len(body)))
	return append(b, body...)
}

// FormatError is a module that does not follow the binary format. Its
// message is one line that names the section, the offset and what was
// wrong.
type FormatError struct {
	// Section names the section ("import", `custom "name"`); empty for
	// the module's header.
	Section string
	// Offset is the offset in the module of the value that was wrong.
	Offset int
	// Reason says what was wrong with it.
	Reason string
}

func (e *FormatError) Error() string {
	if e.Section == "" {
		return fmt.Sprintf("malformed module at offset %d: %s", e.Offset, e.Reason)
	}
	return fmt.Sprintf("malformed module: %s section, offset %d: %s", e.Section, e.Offset, e.Reason)
}

// Sections splits a module into its sections. It checks the header, that
// every section id is known, that every size is a valid LEB128 that fits in
// what is left of the module, that no section but custom ones appears twice,
// and that they come in order.
func Sections(wasm []byte) ([]Section, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, &FormatError{Reason: "not a WebAssembly binary (no \\0asm magic)"}
	}
	if !bytes.Equal(wasm[4:8], []byte{1, 0, 0, 0}) {
		return nil, &FormatError{Offset: 4, Reason: fmt.Sprintf("unsupported binary version % x (want 01 00 00 00)", wasm[4:8])}
	}
	var secs []Section
	last := 0
	r := Reader{B: wasm, Pos: 8}
	for r.Pos < len(r.B) {
		at := r.Pos
		id := r.B[r.Pos]
		r.Pos++
		rank := SectionRank(id)
		if rank < 0 {
			return nil, &FormatError{Offset: at, Reason: fmt.Sprintf("unknown section id %d", id)}
		}
		name := SectionName(id)
		sizeAt := r.Pos
		size, err := r.U32()
		if err != nil {
			return nil, &FormatError{Section: name, Offset: sizeAt, Reason: "section size: " + err.Error()}
		}
		if uint64(size) > uint64(r.Len()) {
			return nil, &FormatError{Section: name, Offset: sizeAt,
				Reason: fmt.Sprintf("section size %d overruns the module by %d bytes", size, uint64(size)-uint64(r.Len()))}
		}
		if rank != 0 {
			if rank == last {
				return nil, &FormatError{Section: name, Offset: at, Reason: "the section appears twice"}
			}
			if rank < last {
				return nil, &FormatError{Section: name, Offset: at, Reason: "the section is out of order"}
			}
			last = rank
		}
		secs = append(secs, Section{ID: id, Offset: r.Pos, Body: r.B[r.Pos : r.Pos+int(size)]})
		r.Pos += int(size)
	}
	return secs, nil
}
