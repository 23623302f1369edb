package wasmprep

import (
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io/fs"
	"sync"
)

// source is this package's source, which RewriteKey hashes.
//
//go:embed *.go
var source embed.FS

// sourceSum is the hash of source: each file's name, length and contents,
// in name order. A test may replace it.
var sourceSum = sync.OnceValue(func() [sha256.Size]byte {
	h := sha256.New()
	entries, _ := fs.ReadDir(source, ".")
	for _, e := range entries {
		b, _ := source.ReadFile(e.Name())
		h.Write(binary.LittleEndian.AppendUint64([]byte(e.Name()+"\x00"), uint64(len(b))))
		h.Write(b)
	}
	return [sha256.Size]byte(h.Sum(nil))
})

// RewriteKey names the rewrite of the module with or without checks (see
// [Module.Rewrite]) in a cache of rewrites: the SHA-256 of this package's
// source, of checks and of the module. A cached rewrite is valid only for
// the code that wrote it, so any change to the package, to the rewriter or
// not, sets such a cache aside, and there is no version number to remember
// to bump. The entries' format ([EntryTrailer]) is part of the source.
func (m *Module) RewriteKey(checks bool) [sha256.Size]byte {
	h := sha256.New()
	sum := sourceSum()
	h.Write(sum[:])
	h.Write([]byte{byte(b2u(checks))})
	h.Write(m.wasm)
	return [sha256.Size]byte(h.Sum(nil))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EntryTrailer returns what follows the rewritten module code in an entry
// of a cache of rewrites: info as JSON, the JSON's length (4 bytes) and a
// CRC-32C of the module and all that, little endian. It is kept apart from
// code so that the module, megabytes, need not be copied to be written.
func EntryTrailer(code []byte, info Info) ([]byte, error) {
	meta, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	meta = binary.LittleEndian.AppendUint32(meta, uint32(len(meta)))
	crc := crc32.Update(crc32.Checksum(code, castagnoli), castagnoli, meta)
	return binary.LittleEndian.AppendUint32(meta, crc), nil
}

// SplitEntry splits an entry of a cache of rewrites (see [EntryTrailer])
// into the rewritten module and its info, and reports whether the entry is
// whole: its checksum agrees and its parts fit.
func SplitEntry(b []byte) ([]byte, Info, bool) {
	if len(b) < 8 {
		return nil, Info{}, false
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, Info{}, false
	}
	n := binary.LittleEndian.Uint32(body[len(body)-4:])
	body = body[:len(body)-4]
	if uint64(n) > uint64(len(body)) {
		return nil, Info{}, false
	}
	var info Info
	if err := json.Unmarshal(body[len(body)-int(n):], &info); err != nil {
		return nil, Info{}, false
	}
	return body[:len(body)-int(n)], info, true
}
