package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/host"
	"github.com/wasmserve/wasmserve/host/executor"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:         "check",
		Usage:        "report how MODULE.wasm fits the ABI it is run with; exit 1 if it cannot run",
		ArgsUsage:    "MODULE.wasm",
		Flags:        []cli.Flag{abiFlag()},
		OnUsageError: usageError("wasmserve check"),
		Action:       check,
	}
}

// checkStartTimeout bounds the start function of the isolate check starts:
// the handler timeout serve has by default.
const checkStartTimeout = 30 * time.Second

func check(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("check takes one module file, got %d arguments (usage: wasmserve check MODULE.wasm)", c.NArg())
	}
	path := c.Args().First()
	if isManifest(path) {
		return checkManifest(c, path)
	}
	wasm, err := readModule(path)
	if err != nil {
		return err
	}
	// The start function is bounded by serve's default handler timeout,
	// as serve would bound it: an endless start is a problem, not a hang.
	// The executors and extensions are serve's, with their defaults: an
	// import of wasmserve_http fits whatever the outbound policy.
	mc := moduleConfig{hc: host.HandlerConfig{HandlerTimeout: checkStartTimeout}}
	if err := abiConfig(c, &mc.hc); err != nil {
		return err
	}
	hc, exts, err := mc.handler(nil)
	if err != nil {
		return err
	}
	defer exts.Close(context.Background())
	rep, err := host.Inspect(context.Background(), wasm, hc)
	if err != nil {
		return fmt.Errorf("module %s: %s", path, firstLine(err.Error()))
	}
	w := c.App.Writer
	if rep.Component {
		fmt.Fprintf(w, "%-16s %s\n", "component:", path)
		fmt.Fprintf(w, "%-16s %s\n", "abi:", rep.ABI)
		list(w, "imports", rep.Imports)
		list(w, "exports", rep.Exports)
		return checkResult(w, path, rep)
	}
	fmt.Fprintf(w, "%-16s %s\n", "module:", path)
	fmt.Fprintf(w, "%-16s %s\n", "abi:", rep.ABI)
	start := rep.Start
	if start == "" {
		start = "none"
	}
	fmt.Fprintf(w, "%-16s %s\n", "start:", start)
	mem := "none exported"
	if rep.MemoryMin > 0 || rep.HasMemoryMax || !contains(rep.MissingExports, "memory") {
		max := "no maximum"
		if rep.HasMemoryMax {
			max = fmt.Sprintf("max %d pages (%s)", rep.MemoryMax, pagesSize(rep.MemoryMax))
		}
		mem = fmt.Sprintf("min %d pages (%s), %s", rep.MemoryMin, pagesSize(rep.MemoryMin), max)
	}
	fmt.Fprintf(w, "%-16s %s\n", "memory:", mem)
	list(w, "provided", rep.Provided)
	list(w, "unknown", rep.Unknown)
	list(w, "other imports", rep.OtherImports)
	list(w, "missing exports", rep.MissingExports)
	return checkResult(w, path, rep)
}

// checkResult ends check's report: ok, or the problems and exit status 1.
func checkResult(w io.Writer, path string, rep *executor.Report) error {
	if rep.OK() {
		fmt.Fprintf(w, "%-16s %s\n", "result:", "ok")
		return nil
	}
	fmt.Fprintln(w, "problems:")
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "  - "+p)
	}
	return &exitError{code: 1, err: fmt.Errorf("module %s cannot run: %d problem(s)", path, len(rep.Problems))}
}

func list(w io.Writer, label string, items []string) {
	v := "none"
	if len(items) > 0 {
		v = strings.Join(items, ", ")
	}
	fmt.Fprintf(w, "%-16s %s\n", label+":", v)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// pagesSize spells a count of 64 KiB pages as a size.
func pagesSize(pages uint32) string {
	b := uint64(pages) << 16
	switch {
	case b >= 1<<30 && b%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", b>>30)
	case b >= 1<<20 && b%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", b>>20)
	}
	return fmt.Sprintf("%d KiB", b>>10)
}
