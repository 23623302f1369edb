package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/internal/suggest"
)

// shortUsage is what wasmserve without arguments prints, on stderr, before
// it exits 2.
var shortUsage = "usage: " + strings.ReplaceAll(usageLines, "\n", "\n       ") + "\n" +
	"Run 'wasmserve --help' for the commands, 'wasmserve serve --help' for the flags.\n"

// usageLines are the forms of the command line, one a line.
const usageLines = `wasmserve [serve] [flags] MODULE.wasm
wasmserve new [--lang go|rust|assemblyscript|c|wat] NAME
wasmserve build
wasmserve dev [flags]
wasmserve check MODULE.wasm
wasmserve test MODULE.wasm CASES.yaml...
wasmserve certs [--out DIR] [HOST...]
wasmserve version`

// unknownCommand says that name is no command of app, and which one was
// meant where one is near.
func unknownCommand(app *cli.App, name string) string {
	var names []string
	for _, c := range app.Commands {
		names = append(names, c.Names()...)
	}
	msg := fmt.Sprintf("%q is not a command", name)
	if near := suggest.Nearest(name, names); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	return msg + " (a module file ends in .wasm; run 'wasmserve --help' for the commands)"
}

// Usage errors of urfave/cli, to be said again in wasmserve's words.
var (
	badValue    = regexp.MustCompile(`^invalid value "(.*)" for flag -([a-z0-9-]+): (.*)$`)
	badEnvValue = regexp.MustCompile(`^could not parse "(.*)" as [a-z0-9]+ value from environment variable "([A-Z0-9_]+)" for flag ([a-z0-9-]+): `)
	unknownFlag = regexp.MustCompile(`^flag provided but not defined: -+([A-Za-z0-9_-]+)$`)
)

// usageError rewrites cli's usage errors of the command name — a value that
// does not parse, an unknown flag — as one line that names the flag with its
// two dashes, says what its value must look like or which flag was meant,
// and where to look.
func usageError(name string) cli.OnUsageErrorFunc {
	return func(c *cli.Context, err error, _ bool) error {
		return fmt.Errorf("%s (run '%s --help' for the flags)", describeUsageError(c, err), name)
	}
}

func describeUsageError(c *cli.Context, err error) string {
	msg := err.Error()
	var flags []cli.Flag // the command's, else the app's
	if c != nil && c.Command != nil {
		flags = c.Command.Flags
	}
	if c != nil && len(flags) == 0 && c.App != nil {
		flags = c.App.Flags
	}
	if m := badValue.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s %q: %s", m[2], m[1], valueForm(flags, m[2], m[3]))
	}
	if m := badEnvValue.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s %q (--%s): %s", m[2], m[1], m[3], valueForm(flags, m[3], ""))
	}
	if m := unknownFlag.FindStringSubmatch(msg); m != nil {
		var names []string
		for _, f := range flags {
			names = append(names, f.Names()...)
		}
		out := fmt.Sprintf("--%s is not a flag", m[1])
		if near := suggest.Nearest(m[1], names); near != "" {
			out += fmt.Sprintf("; did you mean --%s?", near)
		}
		return out
	}
	return msg
}

// valueForm says what a value of the flag named name must look like, from
// its type; why is cli's own reason, kept when it says more than "parse
// error".
func valueForm(flags []cli.Flag, name, why string) string {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			switch f.(type) {
			case *cli.DurationFlag:
				return "not a duration: give a number with a unit, such as 5s, 500ms or 2m"
			case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
				return "not a whole number"
			case *cli.Float64Flag:
				return "not a number"
			case *cli.BoolFlag:
				return "not true or false"
			}
		}
	}
	if why == "" || why == "parse error" {
		return "not a valid value"
	}
	return why
}
