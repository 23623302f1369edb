// Package project is what wasmserve knows of a handler project: its
// languages, the files `wasmserve new` writes for each (from templates/),
// how `wasmserve build` builds one into Output, and the source files
// `wasmserve dev` watches. The commands themselves, their flags and
// messages, are cmd/wasmserve's.
package project

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/wasmserve/wasmserve/abi/c"
)

// templates are the files `wasmserve new` writes, per language.
//
//go:embed templates
var templates embed.FS

// Data is what the templates are filled with.
type Data struct {
	Name, Lang   string
	PackageName  string // the npm package's name: Name in lower case
	Greeting     string // what the handler answers before the request's URI
	GoVersion    string // the go line of go.mod
	SDKVersion   string // the SDK version go.mod requires
	SDKDir       string // a local SDK checkout go.mod replaces it with, or ""
	BuildCommand string // the build's command, for the Makefile; Render sets it
}

// Render fills l's templates with data: the project's files by their path
// in the project.
func Render(l *Language, data *Data) (map[string][]byte, error) {
	files := map[string][]byte{}
	if l.name == "c" {
		files["http_handler.h"] = c.Header
	}
	data.BuildCommand = l.makeCommand
	for tmpl, out := range l.files {
		b, err := templates.ReadFile("templates/" + tmpl)
		if err != nil {
			return nil, err
		}
		t, err := template.New(tmpl).Parse(string(b))
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", tmpl, err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return nil, fmt.Errorf("template %s: %w", tmpl, err)
		}
		files[out] = buf.Bytes()
	}
	return files, nil
}

// ErrBuildFailed is the error of a build whose command failed; its output
// says why.
var ErrBuildFailed = errors.New("build failed")

// Build builds the project in dir into dir/Output, printing each command
// and its output to out, and returns its language. It fails before running
// anything when part of the toolchain is missing, naming it and how to
// install it.
func Build(ctx context.Context, dir string, out io.Writer) (*Language, error) {
	l, err := Detect(dir)
	if err != nil {
		return nil, err
	}
	if err := l.MissingTool(); err != nil {
		return l, err
	}
	steps, err := l.steps(dir)
	if err != nil {
		return l, err
	}
	for _, s := range steps {
		fmt.Fprintln(out, "$ "+s.String())
		if s.fn != nil {
			if err := s.fn(); err != nil {
				return l, fmt.Errorf("%s: %w", s, err)
			}
			continue
		}
		var captured bytes.Buffer
		cmd := exec.CommandContext(ctx, s.argv[0], s.argv[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), s.env...)
		cmd.Stdout = io.MultiWriter(out, &captured)
		cmd.Stderr = cmd.Stdout
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return l, fmt.Errorf("%s: interrupted", s.argv[0])
			}
			msg := filepath.Base(s.argv[0]) + " " + exitText(err)
			if l.hint != nil {
				if h := l.hint(captured.String()); h != "" {
					msg += "; " + h
				}
			}
			return l, fmt.Errorf("%w: %s", ErrBuildFailed, msg)
		}
	}
	return l, nil
}

// exitText says how a command ended, from the error of exec.Cmd.Run.
func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	return strings.TrimPrefix(err.Error(), "exec: ")
}

// Stamps say, for each source file of a project, what tells a change: its
// modification time and size.
type Stamps map[string]stamp

type stamp struct {
	mtime time.Time
	size  int64
}

// SourceStamps returns the stamps of l's sources under dir, skipping hidden
// folders and build output.
func SourceStamps(dir string, l *Language) Stamps {
	stamps := Stamps{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "target" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		for _, s := range l.sources {
			if strings.HasSuffix(d.Name(), s) {
				if fi, err := d.Info(); err == nil {
					stamps[p] = stamp{fi.ModTime(), fi.Size()}
				}
				break
			}
		}
		return nil
	})
	return stamps
}

// WaitForChange looks at l's sources under dir every poll until they differ
// from old, and returns them; or ctx's error once it is done.
func WaitForChange(ctx context.Context, dir string, l *Language, old Stamps, poll time.Duration) (Stamps, error) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return old, ctx.Err()
		case <-t.C:
		}
		cur := SourceStamps(dir, l)
		if !old.same(cur) {
			// An editor may write in several steps: let it finish.
			time.Sleep(poll / 3)
			return SourceStamps(dir, l), nil
		}
	}
}

// same reports whether a and b stamp the same files alike.
func (a Stamps) same(b Stamps) bool {
	if len(a) != len(b) {
		return false
	}
	for p, s := range a {
		if t, ok := b[p]; !ok || !t.mtime.Equal(s.mtime) || t.size != s.size {
			return false
		}
	}
	return true
}
