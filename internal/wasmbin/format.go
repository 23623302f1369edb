package wasmbin

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Format is the kind of WebAssembly binary a preamble announces.
type Format uint8

// The binary formats. The zero value is no format: what DetectFormat
// returns with an error.
const (
	// FormatCore is a core module: version 1, layer 0.
	FormatCore Format = iota + 1
	// FormatComponent is a component of the component model (WASI 0.2):
	// version 0x0d, layer 1.
	FormatComponent
)

// String names the format.
func (f Format) String() string {
	switch f {
	case FormatCore:
		return "core module"
	case FormatComponent:
		return "component"
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// componentVersion is the version field of a component's preamble until
// the component model's binary format is final.
const componentVersion = 0x0d

// DetectFormat reads the 8-byte preamble shared by every WebAssembly binary
// (the magic \0asm, a 16-bit version and a 16-bit layer) and says which
// format follows, before any format's own checks run. A file that is not
// WebAssembly, or a version and layer of neither format, is a
// *FormatError.
func DetectFormat(b []byte) (Format, error) {
	if len(b) < 8 || !bytes.Equal(b[:4], []byte("\x00asm")) {
		return 0, &FormatError{Reason: "not a WebAssembly binary (no \\0asm magic)"}
	}
	version, layer := binary.LittleEndian.Uint16(b[4:6]), binary.LittleEndian.Uint16(b[6:8])
	switch {
	case version == 1 && layer == 0:
		return FormatCore, nil
	case layer == 1 && version == componentVersion:
		return FormatComponent, nil
	case layer == 1:
		return 0, &FormatError{Offset: 4, Reason: fmt.Sprintf("a component of unsupported version %#x (want %#x)", version, componentVersion)}
	}
	return 0, &FormatError{Offset: 4, Reason: fmt.Sprintf("unsupported binary version % x (want 01 00 00 00)", b[4:8])}
}
