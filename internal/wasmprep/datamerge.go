package wasmprep

import (
	"fmt"

	"github.com/wasmserve/wasmserve/internal/wasmbin"
)

// maxDataGap is the largest run of zeros mergeData writes out to join two
// data segments: a longer gap starts a new segment.
const maxDataGap = 256

// mergeData returns a data section with the same effect on memory as body
// and fewer segments: consecutive active segments of memory 0 at constant
// offsets are joined into one when each starts no more than maxDataGap
// bytes past the end of the one before (the gap filled with zeros, which a
// new memory holds there anyway unless an earlier segment wrote there: then
// they are not joined), or inside it (the later bytes win, as when the
// segments are applied in order). A Go module has tens of thousands of
// segments, and wazero evaluates each one's offset, with an allocation, at
// every instantiation.
//
// Segment indices change, so it must be used only on a module without a
// data count section, which memory.init and data.drop (the only users of
// the indices) require. A passive segment, an offset that is not an
// i32.const, or another memory ends the segment being built and is kept as
// it is. ok is false, with body returned as it is, when nothing would
// merge.
func mergeData(body []byte) (out []byte, ok bool, err error) {
	r := wasmbin.Reader{B: body}
	n, err := r.U32()
	if err != nil {
		return nil, false, fmt.Errorf("count: %w", err)
	}
	var (
		segs    []byte // the new section's entries
		count   uint32
		start   uint32 // the segment being built: offset and bytes
		data    []byte
		pending bool
		written [][2]uint64 // the blocks written out, as [start, end)
	)
	flush := func() {
		if !pending {
			return
		}
		segs = append(segs, 0x00, wasmbin.OpI32Const) // active, memory 0
		segs = wasmbin.AppendS32(segs, int32(start))
		segs = append(segs, wasmbin.OpEnd)
		segs = wasmbin.AppendU32(segs, uint32(len(data)))
		segs = append(segs, data...)
		count++
		written = append(written, [2]uint64{uint64(start), uint64(start) + uint64(len(data))})
		pending, data = false, data[:0:0]
	}
	for i := uint32(0); i < n; i++ {
		from := r.Pos
		flag, err := r.U32()
		if err != nil {
			return nil, false, fmt.Errorf("segment %d: %w", i, err)
		}
		var off uint32
		constant := false
		switch flag {
		case 0, 2:
			mem := uint32(0)
			if flag == 2 {
				if mem, err = r.U32(); err != nil {
					return nil, false, fmt.Errorf("segment %d: memory: %w", i, err)
				}
			}
			exprAt := r.Pos
			if c, err := r.Byte(); err == nil && c == wasmbin.OpI32Const {
				if v, err := r.LEB(32, true); err == nil {
					if end, err := r.Byte(); err == nil && end == wasmbin.OpEnd && mem == 0 {
						off, constant = uint32(int32(v)), true
					}
				}
			}
			if !constant {
				r.Pos = exprAt
				if err := r.SkipConstExpr(); err != nil {
					return nil, false, fmt.Errorf("segment %d: offset: %w", i, err)
				}
			}
		case 1:
		default:
			return nil, false, fmt.Errorf("segment %d: unknown flags %d", i, flag)
		}
		size, err := r.U32()
		if err != nil {
			return nil, false, fmt.Errorf("segment %d: size: %w", i, err)
		}
		if uint64(size) > uint64(len(r.B)-r.Pos) {
			return nil, false, fmt.Errorf("segment %d: %d bytes beyond the end of the section", i, size)
		}
		bytes := r.B[r.Pos : r.Pos+int(size)]
		r.Pos += int(size)
		if !constant {
			flush()
			segs = append(segs, r.B[from:r.Pos]...)
			count++
			continue
		}
		end := uint64(start) + uint64(len(data))
		// A gap is filled with zeros only where no block written
		// before lies: the zeros would overwrite what it left there.
		joins := uint64(off) <= end || (uint64(off) <= end+maxDataGap && !overlaps(written, end, uint64(off)))
		if pending && off >= start && joins {
			if need := uint64(off) + uint64(size) - uint64(start); need > uint64(len(data)) {
				data = append(data, make([]byte, need-uint64(len(data)))...)
			}
			copy(data[off-start:], bytes)
			continue
		}
		flush()
		start, data, pending = off, append(data, bytes...), true
	}
	if r.Pos != len(r.B) {
		return nil, false, fmt.Errorf("%d bytes after the last segment", len(r.B)-r.Pos)
	}
	flush()
	if count == n {
		return body, false, nil
	}
	return append(wasmbin.AppendU32(nil, count), segs...), true, nil
}

// overlaps reports whether [from, to) meets one of the ranges.
func overlaps(ranges [][2]uint64, from, to uint64) bool {
	for _, r := range ranges {
		if from < r[1] && r[0] < to {
			return true
		}
	}
	return false
}
