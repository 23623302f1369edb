package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/internal/project"
)

func buildCommand() *cli.Command {
	return &cli.Command{
		Name:  "build",
		Usage: "build the handler project in the current folder (Go, Rust, AssemblyScript, C, WAT or JavaScript) into " + project.Output,
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
			l, err := project.Build(c.Context, ".", c.App.ErrWriter)
			if err != nil {
				return err
			}
			size := "?"
			if st, err := os.Stat(project.Output); err == nil {
				size = humanSize(int(st.Size()))
			}
			fmt.Fprintf(c.App.ErrWriter, "built %s (%s handler, %s) in %s\n", project.Output, l.Title(), size,
				time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}
