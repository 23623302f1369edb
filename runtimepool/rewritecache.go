package runtimepool

import (
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/wasmserve/wasmserve/internal/prefault"
)

// rewriteDir is the subdirectory of Config.CacheDir that holds rewritten
// modules, next to wazero's own.
const rewriteDir = "wasmserve-interruptible"

// minCachedRewrite is the smallest module whose rewrite is cached: below
// it, rewriting costs less than a look-up (about 0.8 ms, most of it first
// touches of code and data).
const minCachedRewrite = 256 << 10

// packageSource is this package's source. A cached rewrite is valid only
// for the code that wrote it, so the cache key includes a hash of all of it:
// any change to the package, to the rewriter or not, sets the cache aside,
// and there is no version number to remember to bump.
//
//go:embed *.go
var packageSource embed.FS

// rewriterSum is the hash of packageSource: each file's name, length and
// contents, in name order. A test may replace it.
var rewriterSum = sync.OnceValue(func() [sha256.Size]byte {
	h := sha256.New()
	entries, _ := fs.ReadDir(packageSource, ".")
	for _, e := range entries {
		b, _ := packageSource.ReadFile(e.Name())
		h.Write(binary.LittleEndian.AppendUint64([]byte(e.Name()+"\x00"), uint64(len(b))))
		h.Write(b)
	}
	return [sha256.Size]byte(h.Sum(nil))
})

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// rewriteCached returns RewriteInterruptible(wasm), read from dir when an
// earlier run left it there, or rewritten and left there for the next run.
// The rewrite of a Go guest costs tens of milliseconds of every start; a
// hash of the module and a read cost a few. With dir empty, or a module
// smaller than minCachedRewrite, it only rewrites. The cache is
// best-effort: an entry that cannot be read or written is logged at debug
// level and the module rewritten.
//
// An entry is named by the SHA-256 of the package's source and of wasm,
// and holds the rewritten module followed by its CRC-32C, little endian.
// Rewrites that fail are not cached.
func rewriteCached(dir string, wasm []byte, log *slog.Logger) ([]byte, error) {
	if dir == "" || len(wasm) < minCachedRewrite {
		return RewriteInterruptible(wasm)
	}
	path := rewritePath(dir, wasm)
	if b, err := prefault.ReadFile(path); err == nil {
		if out, ok := checkCRC(b); ok {
			return out, nil
		}
		log.Debug("ignoring a damaged cached rewrite", "path", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		log.Debug("reading a cached rewrite", "err", err)
	}
	out, err := RewriteInterruptible(wasm)
	if err != nil {
		return nil, err
	}
	if err := writeCached(path, out); err != nil {
		log.Debug("caching the rewritten module", "err", err)
	}
	return out, nil
}

// rewritePath is where the rewrite of wasm is cached in dir.
func rewritePath(dir string, wasm []byte) string {
	h := sha256.New()
	sum := rewriterSum()
	h.Write(sum[:])
	h.Write(wasm)
	return filepath.Join(dir, rewriteDir, hex.EncodeToString(h.Sum(nil))+".wasm")
}

// checkCRC splits an entry into the module and its checksum, and reports
// whether they agree.
func checkCRC(b []byte) ([]byte, bool) {
	if len(b) < 4 {
		return nil, false
	}
	out, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	return out, crc32.Checksum(out, castagnoli) == sum
}

// writeCached writes out and its checksum to path through a temporary file
// and a rename, so that a reader sees a whole entry or none. It does not
// sync: an entry a crash leaves incomplete fails its checksum.
func writeCached(path string, out []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc32.Checksum(out, castagnoli))
	_, err = f.Write(out)
	if err == nil {
		_, err = f.Write(sum[:])
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
