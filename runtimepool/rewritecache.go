package runtimepool

import (
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/wasmserve/wasmserve/internal/atomicfile"
	"github.com/wasmserve/wasmserve/internal/prefault"
	"github.com/wasmserve/wasmserve/internal/wasmbin"
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

// rewriteCached returns rewrite(wasm, checks), read from dir when an
// earlier run left it there, or rewritten and left there for the next run.
// The rewrite of a Go guest costs tens of milliseconds of every start; a
// hash of the module and a read cost a few. With dir empty, or a module
// smaller than minCachedRewrite, it only rewrites. The cache is
// best-effort: an entry that cannot be read or written is logged at debug
// level and the module rewritten.
//
// An entry is named by the SHA-256 of the package's source, of checks and
// of wasm, and holds the rewritten module, the moduleInfo as JSON, the
// JSON's length (4 bytes) and a CRC-32C of all that, little endian. Rewrites
// that fail are not cached.
func rewriteCached(dir string, wasm []byte, checks bool, log *slog.Logger) ([]byte, moduleInfo, error) {
	if dir == "" || len(wasm) < minCachedRewrite {
		return rewriteErr(wasm, checks)
	}
	path := rewritePath(dir, wasm, checks)
	if b, err := prefault.ReadFile(path); err == nil {
		if out, info, ok := splitEntry(b); ok {
			return out, info, nil
		}
		log.Debug("ignoring a damaged cached rewrite", "path", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		log.Debug("reading a cached rewrite", "err", err)
	}
	out, info, err := rewriteErr(wasm, checks)
	if err != nil {
		return nil, info, err
	}
	if err := writeCached(path, out, info); err != nil {
		log.Debug("caching the rewritten module", "err", err)
	}
	return out, info, nil
}

// rewriteErr is rewrite with its errors worded as RewriteInterruptible's:
// a malformed module is reported as the *wasmbin.FormatError it is, what the
// rewrite refuses to do starts "rewriting module".
func rewriteErr(wasm []byte, checks bool) ([]byte, moduleInfo, error) {
	out, info, err := rewrite(wasm, checks)
	var fe *wasmbin.FormatError
	if errors.As(err, &fe) {
		return nil, info, err
	}
	if err != nil {
		return nil, info, fmt.Errorf("rewriting module: %w", err)
	}
	return out, info, nil
}

// rewritePath is where the rewrite of wasm is cached in dir.
func rewritePath(dir string, wasm []byte, checks bool) string {
	h := sha256.New()
	sum := rewriterSum()
	h.Write(sum[:])
	h.Write([]byte{byte(b2u(checks))})
	h.Write(wasm)
	return filepath.Join(dir, rewriteDir, hex.EncodeToString(h.Sum(nil))+".wasm")
}

// cachedInfo is moduleInfo as a cache entry stores it.
type cachedInfo struct {
	Globals      []string `json:"globals"`
	HostImports  []string `json:"host_imports"`
	ResetBlocker string   `json:"reset_blocker"`
}

// splitEntry splits an entry into the module and its info, and reports
// whether the entry is whole: its checksum agrees and its parts fit.
func splitEntry(b []byte) ([]byte, moduleInfo, bool) {
	if len(b) < 8 {
		return nil, moduleInfo{}, false
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, moduleInfo{}, false
	}
	n := binary.LittleEndian.Uint32(body[len(body)-4:])
	body = body[:len(body)-4]
	if uint64(n) > uint64(len(body)) {
		return nil, moduleInfo{}, false
	}
	var ci cachedInfo
	if err := json.Unmarshal(body[len(body)-int(n):], &ci); err != nil {
		return nil, moduleInfo{}, false
	}
	return body[:len(body)-int(n)], moduleInfo{globals: ci.Globals, resetBlocker: ci.ResetBlocker, hostImports: ci.HostImports}, true
}

// writeCached writes out, info and the checksum to path through a
// temporary file and a rename, so that a reader sees a whole entry or none.
// It does not sync: an entry a crash leaves incomplete fails its checksum.
func writeCached(path string, out []byte, info moduleInfo) error {
	meta, err := json.Marshal(cachedInfo{Globals: info.globals, ResetBlocker: info.resetBlocker, HostImports: info.hostImports})
	if err != nil {
		return err
	}
	meta = binary.LittleEndian.AppendUint32(meta, uint32(len(meta)))
	crc := crc32.Update(crc32.Checksum(out, castagnoli), castagnoli, meta)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, 0o600, out, binary.LittleEndian.AppendUint32(meta, crc))
}
