package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/host/apps"
	"github.com/wasmserve/wasmserve/internal/suggest"
)

// A manifest (wasmserve.toml) describes many apps served by one server:
//
//	[server]                  # optional: serve flags by their long names; the command line wins
//	port = 8080
//
//	[[app]]
//	name = "hello"            # unique; the app label of metrics, log lines and spans
//	module = "hello.wasm"     # relative to the manifest
//	routes = ["/hello/..."]   # /exact, /prefix/..., host/... or host/path
//	isolates = 2              # any per-module serve flag, by its long name
//
//	[[static]]
//	name = "assets"
//	routes = ["/assets/..."]
//	dir = "public"            # relative to the manifest

// isManifest says whether a command's argument names a manifest rather
// than a module.
func isManifest(path string) bool { return strings.HasSuffix(path, ".toml") }

// appsFlags configure a server of many apps (a manifest).
func appsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "lazy", EnvVars: env("lazy"),
			Usage: "with a manifest, start each app (compile its module, fill its pool) on its first request instead of at start"},
		&cli.DurationFlag{Name: "idle-app-timeout", EnvVars: env("idle-app-timeout"),
			Usage: "with a manifest, release an app's isolates and compiled module after this long without a request; its next request starts it again; 0 = never"},
	}
}

// manifestOnly refuses the flags of many apps without a manifest.
func manifestOnly(c *cli.Context) error {
	for _, name := range []string{"lazy", "idle-app-timeout"} {
		if c.IsSet(name) {
			return fmt.Errorf("--%s needs a manifest (wasmserve serve wasmserve.toml): one module is started at once and kept", name)
		}
	}
	return nil
}

// serverOnlyFlags are the flags of the module groups that configure the
// whole server, not one app: a [server] key or a command-line flag, never
// an app's key.
var serverOnlyFlags = map[string]bool{
	"max-header-bytes": true, "read-header-timeout": true, "watch": true,
	"cache-dir": true, "no-cache": true, "guest-profile": true, "guest-profiling": true,
}

// appFlagNames are the serve flags an app may set, by long name: those of
// the flag sets that configure one module (its pool and limits, the
// guest, middleware, outbound HTTP, key-value stores), whatever help group
// they are shown in.
func appFlagNames() []string {
	var names []string
	for _, group := range [][]cli.Flag{poolFlags(), guestFlags(), middlewareFlags(), outboundFlags(), kvFlags()} {
		for _, f := range group {
			if name := f.Names()[0]; !serverOnlyFlags[name] {
				names = append(names, name)
			}
		}
	}
	return names
}

// pathFlags are the flags whose values are files or folders: relative to
// the manifest when a manifest gives them. dir is HOST[:GUEST][:ro]: its
// HOST part is; kv-store is NAME=URL: a file: URL's path is.
var pathFlags = map[string]bool{
	"guest-config": true, "dir": true, "kv-store": true, "tls-cert": true, "tls-key": true, "tls-key-password-file": true,
	"client-ca": true, "port-file": true, "cache-dir": true, "outbound-ca": true,
}

// staticKeys are the keys of a [[static]] table.
var staticKeys = []string{"name", "routes", "dir", "follow-symlinks", "index"}

// manifest is a manifest read and validated.
type manifest struct {
	path string
	apps []manifestApp
	// server is the [server] table, to tell a reload that changed it
	// (it is read at start only).
	server string
}

// manifestApp is one [[app]] or [[static]] of a manifest.
type manifestApp struct {
	name, kind string
	routes     []apps.Route
	module     string // the module's path
	wasm       []byte
	mc         moduleConfig
	static     apps.StaticConfig
	config     string // everything but the module's bytes; see apps.Spec.Config
}

// rawManifest is a manifest's document as TOML decodes it.
type rawManifest struct {
	Server map[string]any   `toml:"server"`
	App    []map[string]any `toml:"app"`
	Static []map[string]any `toml:"static"`
}

// keyLines are the lines of a manifest's keys: by table ("server",
// "app", "static"), the table's index among its kind, and the key ("" for
// the table's header).
type keyLines map[string][]map[string]int

// manifestError is an error at a line of a manifest.
func manifestError(path string, line int, format string, args ...any) error {
	if line > 0 {
		return fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...))
	}
	return fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
}

// scanManifest finds the line of every key and table, and refuses what is
// not a manifest's shape: a key outside a table, an unknown table, [app]
// for [[app]].
func scanManifest(path string, doc []byte) (keyLines, error) {
	lines := keyLines{}
	p := unstable.Parser{}
	p.Reset(doc)
	table, idx := "", -1
	lineOf := func(n *unstable.Node) int {
		if n.Raw.Length == 0 {
			if k := n.Key(); k.Next() {
				return p.Shape(k.Node().Raw).Start.Line
			}
			return 0
		}
		return p.Shape(n.Raw).Start.Line
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			var parts []string
			for k := e.Key(); k.Next(); {
				parts = append(parts, string(k.Node().Data))
			}
			name := strings.Join(parts, ".")
			line := lineOf(e)
			want := map[string]unstable.Kind{"server": unstable.Table, "app": unstable.ArrayTable, "static": unstable.ArrayTable}
			kind, ok := want[name]
			switch {
			case !ok:
				msg := fmt.Sprintf("unknown table %q (a manifest has [server], [[app]] and [[static]])", name)
				if near := suggest.Nearest(name, []string{"server", "app", "static"}); near != "" {
					msg += fmt.Sprintf("; did you mean %q?", near)
				}
				return nil, manifestError(path, line, "%s", msg)
			case kind != e.Kind && kind == unstable.ArrayTable:
				return nil, manifestError(path, line, "write [[%s]], with double brackets: a manifest may have many", name)
			case kind != e.Kind:
				return nil, manifestError(path, line, "write [%s], with single brackets: a manifest has one", name)
			}
			table = name
			idx = len(lines[name])
			lines[name] = append(lines[name], map[string]int{"": line})
		case unstable.KeyValue:
			k := e.Key()
			k.Next()
			key := string(k.Node().Data)
			line := p.Shape(k.Node().Raw).Start.Line
			if table == "" {
				return nil, manifestError(path, line, "key %q outside a table: put it under [server], [[app]] or [[static]]", key)
			}
			if k.Next() {
				return nil, manifestError(path, line, "dotted key %q: write each key on its own", key)
			}
			lines[table][idx][key] = line
		}
	}
	if err := p.Error(); err != nil {
		var pe *unstable.ParserError
		if errors.As(err, &pe) && len(pe.Highlight) > 0 {
			off := cap(doc) - cap(pe.Highlight)
			if off >= 0 && off <= len(doc) {
				return nil, manifestError(path, 1+bytes.Count(doc[:off], []byte("\n")), "%s", pe.Message)
			}
		}
		return nil, manifestError(path, 0, "%v", err)
	}
	return lines, nil
}

// readManifest reads, checks and validates the manifest at path: its
// shape, every app's keys (through the serve flags' own parsing, on top of
// the flags of c given on the command line), its module, its routes and
// folders. Modules are read, not compiled.
func readManifest(c *cli.Context, path string) (*manifest, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("manifest %s: no such file (check the path)", path)
		}
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	lines, err := scanManifest(path, doc)
	if err != nil {
		return nil, err
	}
	raw, err := decodeManifest(path, doc)
	if err != nil {
		return nil, err
	}
	m := &manifest{path: path, server: fmt.Sprint(raw.Server)}
	dir := manifestDir(path)
	defaults := commandLineArgs(c)
	names := map[string]int{}
	owner := map[string]string{} // route → the app that has it, with its line
	add := func(a manifestApp, keys map[string]int) error {
		if prev, ok := names[a.name]; ok {
			return manifestError(path, keys["name"], "two apps are named %q (the other at line %d): give each its own name", a.name, prev)
		}
		names[a.name] = keys["name"]
		for _, r := range a.routes {
			if prev, ok := owner[r.String()]; ok {
				return manifestError(path, keys["routes"], "route %q is in %s and in app %q: give each route to one app", r, prev, a.name)
			}
			owner[r.String()] = fmt.Sprintf("app %q (line %d)", a.name, keys["routes"])
		}
		m.apps = append(m.apps, a)
		return nil
	}
	for i, t := range raw.App {
		keys := lines["app"][i]
		a, err := readApp(path, dir, t, keys, defaults)
		if err != nil {
			return nil, err
		}
		if err := add(a, keys); err != nil {
			return nil, err
		}
	}
	for i, t := range raw.Static {
		keys := lines["static"][i]
		a, err := readStatic(path, dir, t, keys)
		if err != nil {
			return nil, err
		}
		if err := add(a, keys); err != nil {
			return nil, err
		}
	}
	if len(m.apps) == 0 {
		return nil, manifestError(path, 0, "no apps: add an [[app]] (name, module, routes) or a [[static]] (name, dir, routes)")
	}
	return m, nil
}

// decodeManifest decodes a manifest's document, scanned already.
func decodeManifest(path string, doc []byte) (*rawManifest, error) {
	var raw rawManifest
	if err := toml.NewDecoder(bytes.NewReader(doc)).DisallowUnknownFields().Decode(&raw); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return nil, manifestError(path, row, "%s", strings.TrimPrefix(de.Error(), "toml: "))
		}
		return nil, manifestError(path, 0, "%s", strings.TrimPrefix(err.Error(), "toml: "))
	}
	return &raw, nil
}

// manifestDir is the folder a manifest's relative paths start from.
func manifestDir(path string) string { return filepath.Dir(path) }

// commonKeys reads an app's name and routes.
func commonKeys(path, table string, t map[string]any, keys map[string]int) (string, []apps.Route, error) {
	name, ok := t["name"].(string)
	if !ok || name == "" {
		return "", nil, manifestError(path, keys[""], "[[%s]] without a name: give it name = \"...\" (unique; it labels metrics and logs)", table)
	}
	for _, c := range name {
		if !(c == '-' || c == '_' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return "", nil, manifestError(path, keys["name"], "app name %q: use letters, digits, '-', '_' and '.'", name)
		}
	}
	if s, ok := t["routes"].(string); ok {
		return "", nil, manifestError(path, keys["routes"], "app %q: routes is a list: routes = [%q]", name, s)
	}
	list, ok := t["routes"].([]any)
	if !ok || len(list) == 0 {
		line := keys["routes"]
		if line == 0 {
			line = keys[""]
		}
		return "", nil, manifestError(path, line, "app %q has no routes: give it routes = [\"/%s/...\"] (or \"/exact\", \"host/...\")", name, name)
	}
	var routes []apps.Route
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return "", nil, manifestError(path, keys["routes"], "app %q: a route is a string, got %v", name, v)
		}
		r, err := apps.ParseRoute(s)
		if err != nil {
			return "", nil, manifestError(path, keys["routes"], "app %q: %v", name, err)
		}
		routes = append(routes, r)
	}
	return name, routes, nil
}

// readStatic reads a [[static]] table.
func readStatic(path, dir string, t map[string]any, keys map[string]int) (manifestApp, error) {
	name, routes, err := commonKeys(path, "static", t, keys)
	if err != nil {
		return manifestApp{}, err
	}
	a := manifestApp{name: name, kind: apps.KindStatic, routes: routes}
	for _, k := range sortedKeys(t) {
		if !slices.Contains(staticKeys, k) {
			return a, unknownKey(path, keys[k], name, "static", k, staticKeys)
		}
	}
	folder, ok := t["dir"].(string)
	if !ok || folder == "" {
		return a, manifestError(path, keys[""], "static %q has no dir: give it dir = \"public\" (relative to the manifest)", name)
	}
	a.static.Dir = relativeTo(dir, folder)
	if fi, err := os.Stat(a.static.Dir); err != nil || !fi.IsDir() {
		return a, manifestError(path, keys["dir"], "static %q: dir %s is not a directory (it is relative to the manifest)", name, a.static.Dir)
	}
	if v, ok := t["follow-symlinks"]; ok {
		b, ok := v.(bool)
		if !ok {
			return a, manifestError(path, keys["follow-symlinks"], "static %q: follow-symlinks is true or false", name)
		}
		a.static.FollowSymlinks = b
	}
	if v, ok := t["index"]; ok {
		s, ok := v.(string)
		if !ok || s == "" || strings.ContainsAny(s, "/\\") {
			return a, manifestError(path, keys["index"], "static %q: index is a file name, such as index.html", name)
		}
		a.static.Index = s
	}
	a.config = fmt.Sprintf("%+v", a.static)
	return a, nil
}

// unknownKey says a key is not one of known, and which was meant.
func unknownKey(path string, line int, app, table, key string, known []string) error {
	msg := fmt.Sprintf("%s %q: unknown key %q", table, app, key)
	if near := suggest.Nearest(key, known); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	} else if table == "app" {
		msg += " (an app takes name, module, routes and the per-module serve flags by their long names: 'wasmserve serve --help')"
	} else {
		msg += " (a static folder takes " + strings.Join(known, ", ") + ")"
	}
	return manifestError(path, line, "%s", msg)
}

// readApp reads an [[app]] table: its keys become flags, parsed and
// validated by serve's own flag parsing (handlerConfig) on top of the
// command line's, then its module is read.
func readApp(path, dir string, t map[string]any, keys map[string]int, defaults []string) (manifestApp, error) {
	name, routes, err := commonKeys(path, "app", t, keys)
	if err != nil {
		return manifestApp{}, err
	}
	a := manifestApp{name: name, kind: apps.KindModule, routes: routes}
	allowed := appFlagNames()
	args := slices.Clone(defaults)
	for _, k := range sortedKeys(t) {
		switch k {
		case "name", "routes", "module":
			continue
		}
		if !slices.Contains(allowed, k) {
			if serverOnlyFlags[k] || isServeFlag(k) {
				return a, manifestError(path, keys[k], "app %q: %s configures the whole server, not one app: put it under [server] or on the command line", name, k)
			}
			return a, unknownKey(path, keys[k], name, "app", k, append(allowed, "name", "module", "routes"))
		}
		vals, err := flagValues(t[k])
		if err != nil {
			return a, manifestError(path, keys[k], "app %q: %s: %v", name, k, err)
		}
		for _, v := range vals {
			if pathFlags[k] {
				v = relativePath(dir, k, v)
			}
			args = append(args, "--"+k+"="+v)
		}
	}
	mc, err := parseAppFlags(args)
	if err != nil {
		line, msg := keys[""], err.Error()
		for k, l := range keys {
			if k != "" && strings.Contains(msg, "--"+k) {
				line, msg = l, strings.ReplaceAll(msg, "--"+k, k)
			}
		}
		return a, manifestError(path, line, "app %q: %s", name, msg)
	}
	a.mc = mc
	module, ok := t["module"].(string)
	if !ok || module == "" {
		return a, manifestError(path, keys[""], "app %q has no module: give it module = \"%s.wasm\" (relative to the manifest)", name, name)
	}
	a.module = relativeTo(dir, module)
	a.wasm, err = readModule(a.module)
	if err != nil {
		return a, manifestError(path, keys["module"], "app %q: %v", name, err)
	}
	sum := sha256.Sum256(mc.hw.GuestConfig)
	a.config = strings.Join(args, "\x00") + "\x00" + hex.EncodeToString(sum[:])
	return a, nil
}

// flagValues spells a TOML value as flag values: a list gives one per
// element (for a repeatable flag such as env, dir or allow-outbound).
func flagValues(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case bool:
		return []string{strconv.FormatBool(v)}, nil
	case int64:
		return []string{strconv.FormatInt(v, 10)}, nil
	case float64:
		return []string{strconv.FormatFloat(v, 'g', -1, 64)}, nil
	case []any:
		var out []string
		for _, e := range v {
			if _, ok := e.([]any); ok {
				return nil, errors.New("a list of lists")
			}
			s, err := flagValues(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a string, number, true or false, or a list of them; got %T", v)
}

// relativeTo resolves p against the manifest's folder unless it is
// absolute.
func relativeTo(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// relativePath resolves the path in a path flag's value against the
// manifest's folder: the whole value, or dir's HOST part.
func relativePath(dir, flag, v string) string {
	if flag == "kv-store" {
		// NAME=file:PATH: the store's file is relative to the manifest.
		name, url, _ := strings.Cut(v, "=")
		if p, ok := strings.CutPrefix(url, "file:"); ok {
			return name + "=file:" + relativeTo(dir, p)
		}
		return v
	}
	if flag != "dir" {
		return relativeTo(dir, v)
	}
	host, rest, _ := strings.Cut(v, ":")
	if rest != "" {
		rest = ":" + rest
	}
	return relativeTo(dir, host) + rest
}

func sortedKeys(t map[string]any) []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// isServeFlag says whether name is a flag of serve.
func isServeFlag(name string) bool {
	for _, f := range serveFlags() {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
}

// commandLineArgs spells the serve flags set on c (on the command line or
// in the environment) as arguments, so that an app's flags are parsed on
// top of them: they are every app's defaults.
func commandLineArgs(c *cli.Context) []string {
	if c == nil {
		return nil
	}
	var args []string
	for _, f := range serveFlags() {
		name := f.Names()[0]
		if !c.IsSet(name) {
			continue
		}
		if _, ok := f.(*cli.GenericFlag); ok {
			if r, ok := c.Generic(name).(*repeated); ok {
				for _, s := range *r {
					args = append(args, "--"+name+"="+s)
				}
			}
			continue
		}
		switch v := c.Value(name).(type) {
		case time.Duration:
			args = append(args, "--"+name+"="+v.String())
		default:
			args = append(args, fmt.Sprintf("--%s=%v", name, v))
		}
	}
	return args
}

// parseAppFlags parses args with serve's flags (without their
// environment variables, already in args) and reads them as handlerConfig
// does for serve: one validation and one set of messages for a flag and
// an app's key.
func parseAppFlags(args []string) (moduleConfig, error) {
	flags := serveFlags()
	for _, f := range flags {
		clearEnv(f)
	}
	var mc moduleConfig
	var cfgErr error
	app := &cli.App{
		Name: "wasmserve", Writer: io.Discard, ErrWriter: io.Discard, HideHelp: true,
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{{
			Name: "app", Flags: flags, HideHelp: true,
			OnUsageError: func(c *cli.Context, err error, _ bool) error {
				return errors.New(describeUsageError(c, err))
			},
			Action: func(c *cli.Context) error {
				mc, cfgErr = handlerConfig(c)
				return nil
			},
		}},
	}
	if err := app.Run(append([]string{"wasmserve", "app"}, args...)); err != nil {
		return mc, err
	}
	return mc, cfgErr
}

// clearEnv drops a flag's environment variables.
func clearEnv(f cli.Flag) {
	switch f := f.(type) {
	case *cli.StringFlag:
		f.EnvVars = nil
	case *cli.IntFlag:
		f.EnvVars = nil
	case *cli.BoolFlag:
		f.EnvVars = nil
	case *cli.DurationFlag:
		f.EnvVars = nil
	case *cli.Float64Flag:
		f.EnvVars = nil
	case *cli.GenericFlag:
		f.EnvVars = nil
	}
}
