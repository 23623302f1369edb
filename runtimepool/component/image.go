package component

import (
	"fmt"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// A memory image is a core module's linear memory as instantiation leaves
// it before any code runs: zeros, and the bytes of its active data
// segments at their offsets. With images, the linker compiles the module
// with those segments emptied, and an embedder gives each new instance's
// memory the image's pages (copy-on-write on Linux) instead of wazero
// copying every segment into every instance: a JavaScript component's
// memory starts with megabytes of data.
//
// Only the simple, common case is imaged: a module that defines exactly
// one memory and imports none, whose active segments all write that memory
// at constant (i32.const) offsets within its initial size. The result is
// the same memory at the same moment (before the start function, which
// then runs as it would have); any other module is left as it is.

// maxImage bounds an image: the initial memory of one module.
const maxImage = 1 << 30

// memoryImage returns mod with the active data segments of its memory
// emptied, and the image they made; ok is false, with nothing else
// returned, for a module that is not imaged.
func memoryImage(mod []byte) (stripped, image []byte, ok bool, err error) {
	secs, err := wasmbin.Sections(mod)
	if err != nil {
		return nil, nil, false, err
	}
	var minBytes uint64
	memories := 0
	var data *wasmbin.Section
	dataCount := false
	for i, s := range secs {
		switch s.ID {
		case 12: // data count: memory.init and data.drop name segments
			dataCount = true
		case 2: // import: an imported memory makes the case not simple
			imps, err := coreImports(mod)
			if err != nil {
				return nil, nil, false, err
			}
			for _, imp := range imps {
				if imp.Kind == 2 {
					return nil, nil, false, nil
				}
			}
		case 5: // memory
			r := &wasmbin.Reader{B: s.Body}
			n, err := r.U32()
			if err != nil {
				return nil, nil, false, fmt.Errorf("memory section: %w", err)
			}
			memories = int(n)
			if n == 1 {
				l, err := r.Limits()
				if err != nil {
					return nil, nil, false, fmt.Errorf("memory section: %w", err)
				}
				if l.Flags&0x06 != 0 { // shared or 64-bit
					return nil, nil, false, nil
				}
				minBytes = l.Min << 16
			}
		case 11:
			data = &secs[i]
		}
	}
	if memories != 1 || data == nil || minBytes > maxImage {
		return nil, nil, false, nil
	}
	body, image, ok, err := imageData(data.Body, minBytes, !dataCount)
	if err != nil || !ok {
		return nil, nil, false, err
	}
	out := append(make([]byte, 0, len(mod)-len(data.Body)+len(body)), mod[:8]...)
	for _, s := range secs {
		b := s.Body
		if s.ID == 11 {
			b = body
		}
		out = wasmbin.AppendSection(out, s.ID, b)
	}
	return out, image, true, nil
}

// imageData applies a data section's active segments to an image and
// returns the section without them. With drop unset (a module with a data
// count section, whose memory.init and data.drop name segments by index)
// each is kept, emptied, so that indices do not change: an active segment
// is dropped once applied, so an empty one behaves the same afterwards.
// With drop set they go: wazero evaluates every segment's offset at every
// instantiation, and a large module has thousands.
func imageData(body []byte, minBytes uint64, drop bool) ([]byte, []byte, bool, error) {
	r := &wasmbin.Reader{B: body}
	n, err := r.U32()
	if err != nil {
		return nil, nil, false, fmt.Errorf("data section: %w", err)
	}
	var out []byte
	kept := uint32(0)
	var image []byte
	for i := uint32(0); i < n; i++ {
		from := r.Pos
		flag, err := r.U32()
		if err != nil {
			return nil, nil, false, fmt.Errorf("data segment %d: %w", i, err)
		}
		active := flag == 0 || flag == 2
		if flag == 2 {
			mem, err := r.U32()
			if err != nil {
				return nil, nil, false, fmt.Errorf("data segment %d: %w", i, err)
			}
			if mem != 0 {
				return nil, nil, false, nil
			}
		} else if flag != 1 && flag != 0 {
			return nil, nil, false, fmt.Errorf("data segment %d: unknown flags %d", i, flag)
		}
		var off uint64
		if active {
			c, err := r.Byte()
			if err != nil || c != wasmbin.OpI32Const {
				return nil, nil, false, nil // not a constant offset
			}
			v, err := r.LEB(32, true)
			if err != nil {
				return nil, nil, false, fmt.Errorf("data segment %d: offset: %w", i, err)
			}
			if end, err := r.Byte(); err != nil || end != wasmbin.OpEnd {
				return nil, nil, false, nil
			}
			off = uint64(uint32(v))
		}
		size, err := r.U32()
		if err != nil {
			return nil, nil, false, fmt.Errorf("data segment %d: size: %w", i, err)
		}
		b, err := r.Bytes(size)
		if err != nil {
			return nil, nil, false, fmt.Errorf("data segment %d: %w", i, err)
		}
		if !active {
			out = append(out, r.B[from:r.Pos]...)
			kept++
			continue
		}
		end := off + uint64(size)
		if end > minBytes {
			return nil, nil, false, nil // instantiation fails: leave it to wazero
		}
		if end > uint64(len(image)) {
			image = append(image, make([]byte, end-uint64(len(image)))...)
		}
		copy(image[off:], b)
		if !drop {
			out = append(out, 0x01, 0x00) // passive and empty
			kept++
		}
	}
	if r.Len() != 0 {
		return nil, nil, false, fmt.Errorf("data section: %d bytes after the last segment", r.Len())
	}
	return append(wasmbin.AppendU32(nil, kept), out...), image, len(image) > 0, nil
}

// definedMemoryPages returns the initial size, in 64 KiB pages, of the
// memories a core module defines (not those it imports).
func definedMemoryPages(mod []byte) (uint64, error) {
	secs, err := wasmbin.Sections(mod)
	if err != nil {
		return 0, err
	}
	var pages uint64
	for _, s := range secs {
		if s.ID != 5 {
			continue
		}
		r := &wasmbin.Reader{B: s.Body}
		n, err := r.U32()
		if err != nil {
			return 0, fmt.Errorf("memory section: %w", err)
		}
		for i := uint32(0); i < n; i++ {
			l, err := r.Limits()
			if err != nil {
				return 0, fmt.Errorf("memory section: %w", err)
			}
			pages += l.Min
		}
	}
	return pages, nil
}
