package runtimepool

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/wasmserve/wasmserve/internal/atomicfile"
	"github.com/wasmserve/wasmserve/internal/prefault"
	"github.com/wasmserve/wasmserve/internal/wasmprep"
)

// rewriteDir is the subdirectory of Config.CacheDir that holds rewritten
// modules, next to wazero's own.
const rewriteDir = "wasmserve-interruptible"

// minCachedRewrite is the smallest module whose rewrite is cached: below
// it, rewriting costs less than a look-up (about 0.8 ms, most of it first
// touches of code and data).
const minCachedRewrite = 256 << 10

// rewriteCached returns mod.Rewrite(checks), read from dir when an earlier
// run left it there, or rewritten and left there for the next run. The
// rewrite of a Go guest costs tens of milliseconds of every start; a hash
// of the module and a read cost a few. With dir empty, or a module smaller
// than minCachedRewrite, it only rewrites. The cache is best-effort: an
// entry that cannot be read or written is logged at debug level and the
// module rewritten.
//
// An entry is named by mod.RewriteKey(checks), which changes with the
// rewriter's source, and holds the rewritten module followed by what
// wasmprep.EntryTrailer returns. Rewrites that fail are not cached.
func rewriteCached(dir string, mod *wasmprep.Module, checks bool, log *slog.Logger) ([]byte, wasmprep.Info, error) {
	if dir == "" || len(mod.Bytes()) < minCachedRewrite {
		return mod.Rewrite(checks)
	}
	path := rewritePath(dir, mod, checks)
	if b, err := prefault.ReadFile(path); err == nil {
		if out, info, ok := wasmprep.SplitEntry(b); ok {
			return out, info, nil
		}
		log.Debug("ignoring a damaged cached rewrite", "path", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		log.Debug("reading a cached rewrite", "err", err)
	}
	out, info, err := mod.Rewrite(checks)
	if err != nil {
		return nil, info, err
	}
	if err := writeCached(path, out, info); err != nil {
		log.Debug("caching the rewritten module", "err", err)
	}
	return out, info, nil
}

// rewritePath is where the rewrite of mod is cached in dir.
func rewritePath(dir string, mod *wasmprep.Module, checks bool) string {
	key := mod.RewriteKey(checks)
	return filepath.Join(dir, rewriteDir, hex.EncodeToString(key[:])+".wasm")
}

// writeCached writes out and its entry's trailer to path through a
// temporary file and a rename, so that a reader sees a whole entry or none.
// It does not sync: an entry a crash leaves incomplete fails its checksum.
func writeCached(path string, out []byte, info wasmprep.Info) error {
	trailer, err := wasmprep.EntryTrailer(out, info)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, 0o600, out, trailer)
}
