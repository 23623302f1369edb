package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"
)

// devPoll is how often `wasmserve dev` looks for changed sources.
const devPoll = 300 * time.Millisecond

func devCommand() *cli.Command {
	return &cli.Command{
		Name:  "dev",
		Usage: "build the handler project in the current folder, serve it, and rebuild and reload it on every save",
		Description: "wasmserve build, then wasmserve serve --watch on its " + builtModule + ", rebuilding when a source\n" +
			"file changes. A build that fails is shown and the last build that worked goes on serving.\n" +
			"Takes serve's flags.",
		ArgsUsage:    " ",
		Flags:        devFlags(),
		OnUsageError: usageError("wasmserve dev"),
		Action:       dev,
	}
}

// devFlags are serve's flags but --watch: dev always watches.
func devFlags() []cli.Flag {
	var flags []cli.Flag
	for _, f := range serveFlags() {
		if f.Names()[0] != "watch" {
			flags = append(flags, f)
		}
	}
	return flags
}

func dev(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("dev takes no module: it builds and serves the project in the current folder (got %q)", c.Args().First())
	}
	const dir = "."
	l, err := detectLanguage(dir)
	if err != nil {
		return err
	}
	if err := l.missingTool(); err != nil {
		return err
	}
	charm, _, err := newLogger(c.App.ErrWriter, c.String("log-level"), c.String("log-format"))
	if err != nil {
		return err
	}
	// Until a build works, there is nothing to serve: wait for a fix.
	ctx, stop := notifyStop()
	defer stop()
	srcs := sourceStamps(dir, l.sources)
	for !devBuild(ctx, charm, c.App.ErrWriter, dir, "built", c.String("log-format")) {
		if err := interrupted(ctx, "building"); err != nil {
			return err
		}
		if err := l.missingTool(); err != nil {
			return err
		}
		charm.Info("waiting for a change to the sources to build again")
		if srcs, err = waitForChange(ctx, dir, l.sources, srcs); err != nil {
			return interrupted(ctx, "waiting for a build that works")
		}
	}
	return serveModule(ctx, c, filepath.Join(dir, builtModule), func(ctx context.Context, charm *log.Logger, reload func() error) {
		srcs := sourceStamps(dir, l.sources)
		for {
			var err error
			if srcs, err = waitForChange(ctx, dir, l.sources, srcs); err != nil {
				return
			}
			built := devBuild(ctx, charm, c.App.ErrWriter, dir, "rebuilt", c.String("log-format"))
			// What the build wrote (go.sum, say) is no change of the
			// user's. Taken before the reload: an edit made once the
			// new build answers must count as a change.
			srcs = sourceStamps(dir, l.sources)
			if built {
				reload()
			} else if ctx.Err() == nil {
				charm.Warn("the last build that worked goes on serving")
			}
		}
	})
}

// devBuild builds the project in dir and reports whether it worked. A
// failed build's commands and output are written to w as they are, so that
// the compiler's file:line positions read as usual.
func devBuild(ctx context.Context, charm *log.Logger, w io.Writer, dir, verb, format string) bool {
	start := time.Now()
	var out bytes.Buffer
	l, err := buildProject(ctx, dir, &out)
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		if errors.Is(err, errBuildFailed) {
			w.Write(out.Bytes())
		}
		charm.Error("build failed", "err", err)
		return false
	}
	charm.Info(verb+" "+builtModule, "lang", l.name, "took", logDuration(format, time.Since(start).Round(time.Millisecond)))
	return true
}

// stamp is what says a file changed.
type stamp struct {
	mtime time.Time
	size  int64
}

// sourceStamps returns the stamps of the files under dir whose names end in
// one of suffixes, skipping hidden folders and build output.
func sourceStamps(dir string, suffixes []string) map[string]stamp {
	stamps := map[string]stamp{}
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
		for _, s := range suffixes {
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

// waitForChange polls the sources under dir until they differ from old,
// and returns them; or ctx's error once it is done.
func waitForChange(ctx context.Context, dir string, suffixes []string, old map[string]stamp) (map[string]stamp, error) {
	t := time.NewTicker(devPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return old, ctx.Err()
		case <-t.C:
		}
		cur := sourceStamps(dir, suffixes)
		if !sameStamps(old, cur) {
			// An editor may write in several steps: let it finish.
			time.Sleep(devPoll / 3)
			return sourceStamps(dir, suffixes), nil
		}
	}
}

// sameStamps reports whether a and b stamp the same files alike.
func sameStamps(a, b map[string]stamp) bool {
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
