package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/charmbracelet/log"
	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/internal/project"
)

// devPoll is how often `wasmserve dev` looks for changed sources.
const devPoll = 300 * time.Millisecond

func devCommand() *cli.Command {
	return &cli.Command{
		Name:  "dev",
		Usage: "build the handler project in the current folder, serve it, and rebuild and reload it on every save",
		Description: "wasmserve build, then wasmserve serve --watch on its " + project.Output + ", rebuilding when a source\n" +
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
	l, err := project.Detect(dir)
	if err != nil {
		return err
	}
	if err := l.MissingTool(); err != nil {
		return err
	}
	charm, _, err := newLogger(c.App.ErrWriter, c.String("log-level"), c.String("log-format"))
	if err != nil {
		return err
	}
	// Until a build works, there is nothing to serve: wait for a fix.
	ctx, stop := notifyStop()
	defer stop()
	srcs := project.SourceStamps(dir, l)
	for !devBuild(ctx, charm, c.App.ErrWriter, dir, "built", c.String("log-format")) {
		if err := interrupted(ctx, "building"); err != nil {
			return err
		}
		if err := l.MissingTool(); err != nil {
			return err
		}
		charm.Info("waiting for a change to the sources to build again")
		if srcs, err = project.WaitForChange(ctx, dir, l, srcs, devPoll); err != nil {
			return interrupted(ctx, "waiting for a build that works")
		}
	}
	return serveModule(ctx, c, filepath.Join(dir, project.Output), func(ctx context.Context, charm *log.Logger, reload func() error) {
		srcs := project.SourceStamps(dir, l)
		for {
			var err error
			if srcs, err = project.WaitForChange(ctx, dir, l, srcs, devPoll); err != nil {
				return
			}
			built := devBuild(ctx, charm, c.App.ErrWriter, dir, "rebuilt", c.String("log-format"))
			// What the build wrote (go.sum, say) is no change of the
			// user's. Taken before the reload: an edit made once the
			// new build answers must count as a change.
			srcs = project.SourceStamps(dir, l)
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
	l, err := project.Build(ctx, dir, &out)
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		if errors.Is(err, project.ErrBuildFailed) {
			w.Write(out.Bytes())
		}
		charm.Error("build failed", "err", err)
		return false
	}
	charm.Info(verb+" "+project.Output, "lang", l.Name(), "took", logDuration(format, time.Since(start).Round(time.Millisecond)))
	return true
}
