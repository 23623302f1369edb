package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/internal/project"
)

// sdkModule is the module of the Go guest SDK.
const sdkModule = "github.com/wasmserve/wasmserve"

// sdkDir is the checkout this binary was built from, set by `make install`
// (-ldflags "-X main.sdkDir=..."): the SDK `wasmserve new` points a Go
// project at when the binary is no release and no --sdk is given.
var sdkDir = ""

// releaseVersion matches a module version a go.mod can require: a release
// or a pseudo-version, without build metadata such as +dirty.
var releaseVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// goRelease matches a Go release's version, such as go1.26.8.
var goRelease = regexp.MustCompile(`^go([0-9]+\.[0-9]+(\.[0-9]+)?)$`)

// projectName is what NAME's last element may be: it names the folder, the
// Go module or Rust crate, and appears in the handler's greeting.
var projectName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

func newCommand() *cli.Command {
	return &cli.Command{
		Name:      "new",
		Usage:     "write a handler project in a new folder NAME: the handler, its build file and its test cases",
		ArgsUsage: "NAME",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "lang", Aliases: []string{"l"}, Value: "go",
				Usage: "the language: " + strings.Join(project.Names(), ", ")},
			&cli.StringFlag{Name: "sdk", TakesFile: true,
				Usage: "Go: use the SDK of this wasmserve checkout (a replace in go.mod) instead of the release of this binary"},
		},
		OnUsageError: usageError("wasmserve new"),
		Action:       newProject,
	}
}

func newProject(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("new takes the name of the project's folder, got %d arguments (usage: wasmserve new [--lang %s] NAME)",
			c.NArg(), strings.Join(project.Names(), "|"))
	}
	dir := c.Args().First()
	name := filepath.Base(filepath.Clean(dir))
	if !projectName.MatchString(name) {
		return fmt.Errorf("%q cannot name a project: use a letter, then letters, digits, - or _ (it names the folder, the module and the handler)", name)
	}
	l, err := project.Named(c.String("lang"))
	if err != nil {
		return err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s already exists and is not empty: choose another NAME", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	data := project.Data{Name: name, Lang: l.Name(), PackageName: strings.ToLower(name), Greeting: "Hello from " + name + ": "}
	if l.Name() == "go" {
		if err := goSDK(c.String("sdk"), &data); err != nil {
			return err
		}
	} else if c.IsSet("sdk") {
		return fmt.Errorf("--sdk is for Go projects; a %s handler needs no SDK", l.Title())
	}
	files, err := project.Render(l, &data)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return err
		}
	}
	w := c.App.Writer
	fmt.Fprintf(w, "Wrote %s handler in %s:\n", l.A(), dir)
	for _, n := range names {
		fmt.Fprintf(w, "  %s\n", filepath.Join(dir, n))
	}
	if data.SDKDir != "" {
		fmt.Fprintf(w, "Its go.mod takes the SDK from %s.\n", data.SDKDir)
	} else if data.SDKVersion != "" {
		fmt.Fprintf(w, "Its go.mod requires the SDK %s %s.\n", sdkModule, data.SDKVersion)
	}
	if err := l.MissingTool(); err != nil {
		fmt.Fprintf(w, "Before building: %s\n", lowerFirst(err.Error()))
	}
	fmt.Fprintf(w, "\nNext:\n  cd %s\n  wasmserve dev                            # build, serve on http://localhost:8080, rebuild on save\n", q(dir))
	fmt.Fprintf(w, "  wasmserve build && wasmserve test %s cases.yaml\n", project.Output)
	return nil
}

// goSDK fills in the SDK a Go project's go.mod requires: the checkout of
// --sdk, else the release of this binary, else the checkout it was built
// from.
func goSDK(flagDir string, data *project.Data) error {
	v, goVersion, _ := buildInfo()
	// The Go this binary was built with, which the SDK's go.mod allows.
	data.GoVersion = "1.24"
	if m := goRelease.FindStringSubmatch(goVersion); m != nil {
		data.GoVersion = m[1]
	}
	// A replaced module's version is never fetched; this one says so.
	const replaced = "v0.0.0-00010101000000-000000000000"
	switch {
	case flagDir != "":
		abs, err := checkout(flagDir)
		if err != nil {
			return fmt.Errorf("--sdk %s: %w", flagDir, err)
		}
		data.SDKVersion, data.SDKDir = replaced, abs
	case releaseVersion.MatchString(v):
		data.SDKVersion = v
	case sdkDir != "":
		abs, err := checkout(sdkDir)
		if err != nil {
			return fmt.Errorf("this wasmserve (version %s) is no release, and the checkout it was built from, %s, is gone (%v): give --sdk DIR, a checkout of %s", v, sdkDir, err, sdkModule)
		}
		data.SDKVersion, data.SDKDir = replaced, abs
	default:
		return fmt.Errorf("this wasmserve (version %s) is no release, so there is no SDK version to require: give --sdk DIR, a checkout of %s, "+
			"or install a release (go install %s/cmd/wasmserve@latest)", v, sdkModule, sdkModule)
	}
	return nil
}

// checkout returns the absolute path of dir, a checkout of the SDK's module.
func checkout(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("not a checkout of %s: %w", sdkModule, err)
	}
	if !regexp.MustCompile(`(?m)^module\s+` + regexp.QuoteMeta(sdkModule) + `\s*$`).Match(b) {
		return "", fmt.Errorf("not a checkout of %s: its go.mod is another module's", sdkModule)
	}
	return abs, nil
}

// lowerFirst lower-cases the first letter of s.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
