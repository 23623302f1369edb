package runtimepool

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tetratelabs/wazero"
)

// compileRepairing compiles code in p.rt, which was made with rc, and
// repairs wazero's on-disk compilation cache in dir when one of its entries
// is what fails: wazero refuses an entry that is truncated, zeroed or fails
// its checksum, and never removes it, so that every later start would fail
// the same way. The entry is replaced by one rebuilt from code (see
// rebuildCacheEntry), a warning names it, and code is compiled once more;
// repaired reports that, and the code did not then come from the cache as
// it was. An error that the rebuild does not explain (code that does not
// compile, no cache) is returned as it is.
func (p *Pool[V]) compileRepairing(ctx context.Context, rc wazero.RuntimeConfig, dir string, code []byte) (compiled wazero.CompiledModule, repaired bool, err error) {
	compiled, err = p.rt.CompileModule(ctx, code)
	if err == nil || dir == "" {
		return compiled, false, err
	}
	file, rerr := rebuildCacheEntry(ctx, rc, dir, code)
	if rerr != nil {
		p.log.Debug("the compilation cache could not be checked for a damaged entry", "err", rerr)
	}
	if file == "" {
		return nil, false, err
	}
	p.log.Warn("removed a compilation cache entry that could not be loaded and rebuilt it",
		"file", file, "err", err)
	compiled, err = p.rt.CompileModule(ctx, code)
	return compiled, true, err
}

// rebuildCacheEntry compiles code in a runtime configured as rc but with a
// cache of its own on a new directory inside dir; the one file that compile
// writes is code's entry, named as wazero names it (the wazero version,
// platform, module hash, runtime options and CPU features), at the same path
// relative to its cache directory as the entry in dir. That file replaces
// the entry in dir, by a rename, and its path in dir is returned. Moving
// the fresh entry in, rather than only removing the old one, lets the
// compile that follows load it instead of compiling the module a second
// time.
//
// It returns "" when code does not compile in the new runtime either (the
// cache is not at fault) or dir holds no entry for it, and an error with ""
// when the check itself could not be made.
func rebuildCacheEntry(ctx context.Context, rc wazero.RuntimeConfig, dir string, code []byte) (string, error) {
	tmp, err := os.MkdirTemp(dir, ".wasmserve-rebuild-")
	if err != nil {
		return "", fmt.Errorf("making a directory to rebuild the compilation cache entry: %w", err)
	}
	defer os.RemoveAll(tmp)
	cache, err := wazero.NewCompilationCacheWithDir(tmp)
	if err != nil {
		return "", fmt.Errorf("opening compilation cache %s: %w", tmp, err)
	}
	defer cache.Close(ctx)
	rt := wazero.NewRuntimeWithConfig(ctx, rc.WithCompilationCache(cache))
	defer rt.Close(ctx) // before the cache and the directory
	if _, err := rt.CompileModule(ctx, code); err != nil {
		return "", nil
	}
	rel, err := onlyFile(tmp)
	if err != nil {
		return "", err
	}
	target := filepath.Join(dir, rel)
	if _, err := os.Lstat(target); err != nil {
		return "", nil
	}
	if err := os.Rename(filepath.Join(tmp, rel), target); err != nil {
		return "", fmt.Errorf("replacing compilation cache entry %s: %w", target, err)
	}
	return target, nil
}

// onlyFile returns the path, relative to dir, of the one regular file below
// dir, and an error naming dir when there is none or more than one.
func onlyFile(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("listing the rebuilt compilation cache %s: %w", dir, err)
	}
	if len(files) != 1 {
		return "", fmt.Errorf("the rebuilt compilation cache %s holds %d files, want 1", dir, len(files))
	}
	return filepath.Rel(dir, files[0])
}
