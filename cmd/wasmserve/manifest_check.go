package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/host"
	"github.com/wasmserve/wasmserve/host/apps"
)

// checkManifest is check for a manifest: its shape, keys and values (as
// serve reads them, [server] included), routes, folders, and then every
// module as check inspects one. It exits 1 on any problem.
func checkManifest(c *cli.Context, path string) error {
	var m *manifest
	// serve's flags, without the command line's: the manifest alone is
	// checked, [server] included.
	flags := serveFlags()
	for _, f := range flags {
		clearEnv(f)
	}
	var readErr error
	app := &cli.App{
		Name: "wasmserve", Writer: io.Discard, ErrWriter: io.Discard, HideHelp: true,
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{{Name: "check", Flags: flags, HideHelp: true, Action: func(sc *cli.Context) error {
			if readErr = applyServerTable(sc, path); readErr != nil {
				return nil
			}
			m, readErr = readManifest(sc, path)
			return nil
		}}},
	}
	if err := app.Run([]string{"wasmserve", "check"}); err != nil {
		return err
	}
	if readErr != nil {
		return readErr
	}
	w := c.App.Writer
	fmt.Fprintf(w, "%-16s %s\n", "manifest:", path)
	var specs []*apps.App
	problems := 0
	for _, a := range m.apps {
		var routes []string
		for _, r := range a.routes {
			routes = append(routes, r.String())
		}
		specs = append(specs, &apps.App{Name: a.name, Routes: a.routes})
		if a.kind == apps.KindStatic {
			fmt.Fprintf(w, "%-16s %s (folder %s) routes %s: ok\n", "static:", a.name, a.static.Dir, strings.Join(routes, " "))
			continue
		}
		mc := a.mc
		mc.hc.HandlerTimeout = checkStartTimeout
		hc, ob, err := mc.handler(nil)
		if err != nil {
			return err
		}
		rep, err := host.Inspect(context.Background(), a.wasm, hc)
		ob.Close(context.Background())
		if err != nil {
			fmt.Fprintf(w, "%-16s %s (module %s): %s\n", "app:", a.name, a.module, firstLine(err.Error()))
			problems++
			continue
		}
		fmt.Fprintf(w, "%-16s %s (module %s, abi %s) routes %s: ", "app:", a.name, a.module, rep.ABI, strings.Join(routes, " "))
		if rep.OK() {
			fmt.Fprintln(w, "ok")
			continue
		}
		fmt.Fprintln(w, "problems:")
		for _, p := range rep.Problems {
			fmt.Fprintln(w, "  - "+p)
		}
		problems++
	}
	t, err := apps.NewTable(specs)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("manifest %s: %w", path, err)}
	}
	if problems > 0 {
		return &exitError{code: 1, err: fmt.Errorf("manifest %s: %d app(s) cannot run", path, problems)}
	}
	fmt.Fprintf(w, "%-16s ok (%d apps, %d routes)\n", "result:", len(m.apps), t.Len())
	return nil
}
