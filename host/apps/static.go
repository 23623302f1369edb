package apps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/wasmserve/wasmserve/host/reqinfo"
)

// StaticConfig configures a [Static] folder. The zero value of each field
// but Dir is the default.
type StaticConfig struct {
	// Dir is the folder served.
	Dir string
	// FollowSymlinks serves a path through a symbolic link, as long as
	// the link stays inside Dir; by default such a path is not found.
	FollowSymlinks bool
	// Index is the file served for a directory; empty means index.html.
	// A directory without one is not found: folders are never listed.
	Index string
}

// Static serves the files of one folder with net/http's file-server
// semantics (http.ServeContent: Last-Modified and an ETag, conditional
// requests, Range, content types by extension or sniffing), GET and HEAD
// only. No path leaves the folder: it is opened as an os.Root, which
// refuses .. and links out of it.
type Static struct {
	root  *os.Root
	cfg   StaticConfig
	index string
}

// NewStatic opens the folder of cfg.
func NewStatic(cfg StaticConfig) (*Static, error) {
	fi, err := os.Stat(cfg.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("static folder %s does not exist", cfg.Dir)
	case err != nil:
		return nil, fmt.Errorf("static folder: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("static folder %s is not a directory", cfg.Dir)
	}
	root, err := os.OpenRoot(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("static folder: %w", err)
	}
	index := cfg.Index
	if index == "" {
		index = "index.html"
	}
	return &Static{root: root, cfg: cfg, index: index}, nil
}

// ServeHTTP serves the file at the request's path inside the folder.
func (s *Static) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r, "") }

// Close closes the folder.
func (s *Static) Close(context.Context) error { return s.root.Close() }

// serve serves the file at the request's path, less strip, inside the
// folder.
func (s *Static) serve(w http.ResponseWriter, r *http.Request, strip string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		reqinfo.WriteError(w, http.StatusMethodNotAllowed, "405 method not allowed", reqinfo.IDOf(w))
		return
	}
	p := path.Clean("/" + r.URL.Path)
	name := strings.TrimPrefix(strings.TrimPrefix(p, strip), "/")
	if name == "" {
		name = "."
	}
	f, fi, err := s.open(name)
	if err == nil && fi.IsDir() {
		if !strings.HasSuffix(r.URL.Path, "/") {
			f.Close()
			redirectDir(w, r)
			return
		}
		f.Close()
		f, fi, err = s.open(path.Join(name, s.index))
		if err == nil && fi.IsDir() {
			f.Close()
			err = fs.ErrNotExist
		}
	}
	if err != nil {
		notFound(w, err)
		return
	}
	defer f.Close()
	// An ETag of the size and modification time, as nginx's: enough to
	// tell a changed file, without reading it.
	w.Header().Set("ETag", `"`+strconv.FormatInt(fi.ModTime().UnixNano(), 16)+"-"+strconv.FormatInt(fi.Size(), 16)+`"`)
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// open opens name inside the folder, refusing a path through a symbolic
// link unless the config follows them.
func (s *Static) open(name string) (*os.File, fs.FileInfo, error) {
	if !s.cfg.FollowSymlinks && name != "." {
		for i := 0; i <= len(name); i++ {
			if i < len(name) && name[i] != '/' {
				continue
			}
			fi, err := s.root.Lstat(name[:i])
			if err != nil {
				return nil, nil, err
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				return nil, nil, fmt.Errorf("%s is a symbolic link: %w", name[:i], fs.ErrNotExist)
			}
		}
	}
	f, err := s.root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// redirectDir sends a directory's path without its slash to the path with
// it, relatively, as http.FileServer does.
func redirectDir(w http.ResponseWriter, r *http.Request) {
	target := path.Base(r.URL.Path) + "/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusMovedPermanently)
}

// notFound answers a path that cannot be served: 404 whatever the reason
// (missing, outside the folder, a link, a folder without an index), so
// that nothing of the folder's layout shows; 403 for a file the server may
// not read.
func notFound(w http.ResponseWriter, err error) {
	if errors.Is(err, fs.ErrPermission) {
		reqinfo.WriteError(w, http.StatusForbidden, "403 forbidden", reqinfo.IDOf(w))
		return
	}
	reqinfo.WriteError(w, http.StatusNotFound, "404 not found", reqinfo.IDOf(w))
}
