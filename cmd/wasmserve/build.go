package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

func buildCommand() *cli.Command {
	return &cli.Command{
		Name:  "build",
		Usage: "build the handler project in the current folder (Go, Rust, AssemblyScript, C, WAT or JavaScript) into " + builtModule,
		Description: "Finds the project's language by its files (go.mod, Cargo.toml, package.json, .c, .wat), checks that its\n" +
			"toolchain is installed (else says what to install), runs the build with the flags a wasmserve\n" +
			"handler needs, and prints each command it runs.",
		ArgsUsage:    " ",
		OnUsageError: usageError("wasmserve build"),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("build takes no arguments: it builds the project in the current folder (got %q)", c.Args().First())
			}
			start := time.Now()
			l, err := buildProject(c.Context, ".", c.App.ErrWriter)
			if err != nil {
				return err
			}
			size := "?"
			if st, err := os.Stat(builtModule); err == nil {
				size = humanSize(int(st.Size()))
			}
			fmt.Fprintf(c.App.ErrWriter, "built %s (%s handler, %s) in %s\n", builtModule, l.title, size,
				time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

// errBuildFailed is the error of a build whose command failed; its output
// says why.
var errBuildFailed = errors.New("build failed")

// buildProject builds the project in dir into dir/handler.wasm, printing
// each command and its output to out. It fails before running anything when
// part of the toolchain is missing, naming it and how to install it.
func buildProject(ctx context.Context, dir string, out io.Writer) (*language, error) {
	l, err := detectLanguage(dir)
	if err != nil {
		return nil, err
	}
	if err := l.missingTool(); err != nil {
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
			return l, fmt.Errorf("%w: %s", errBuildFailed, msg)
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
