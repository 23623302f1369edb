package main

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// groupOrder is the order of the flag groups in a command's help: what a
// user needs first comes first. Groups not named here follow, by name, and
// flags of no group come last.
var groupOrder = []string{
	"Cases",
	"Module and isolates", "Guest", "Middleware", "Listener", "TLS", "Limits",
	"Responses", "Operations", "Logging", "Outbound HTTP",
}

// helpGroups are the flags whose group in the help is not that of the
// function defining them, which groups them by the code that reads them;
// each group lists them first, in this order.
var helpGroups = []struct {
	group string
	flags []string
}{
	{"Module and isolates", []string{"abi", "isolates", "max-requests-per-isolate", "watch", "cache-dir", "no-cache"}},
	{"Limits", []string{"memory-limit", "handler-timeout", "max-body", "max-header-bytes", "read-header-timeout",
		"read-timeout", "write-timeout", "idle-timeout", "queue-timeout", "max-queue"}},
	{"Responses", []string{"header", "server-header", "compress", "compress-min-size"}},
	{"Operations", []string{"grace", "admin", "otlp-endpoint"}},
}

// regroup puts the flags of helpGroups in their group.
func regroup(flags []cli.Flag) []cli.Flag {
	for _, f := range flags {
		if g, _ := helpPlace(f.Names()[0]); g != "" {
			inCategory(g, []cli.Flag{f})
		}
	}
	return flags
}

// helpPlace returns the group helpGroups gives the flag name and its place
// in it; "" and -1 when they give none.
func helpPlace(name string) (string, int) {
	for _, g := range helpGroups {
		if i := slices.Index(g.flags, name); i >= 0 {
			return g.group, i
		}
	}
	return "", -1
}

// placeholders name the value of the flags whose type does not say enough.
var placeholders = map[string]string{
	"address": "ADDR", "admin": "ADDR", "port": "PORT", "listen-fd": "FD",
	"memory-limit": "SIZE", "max-body": "SIZE", "gc-heap-floor": "SIZE", "max-header-bytes": "SIZE", "compress-min-size": "SIZE",
	"max-outbound-body": "SIZE", "cache-dir": "DIR", "dir": "HOST[:GUEST][:ro]", "env": "KEY=VALUE", "header": "'NAME: VALUE'",
	"server-header": "VALUE", "tls-key-password": "PASSWORD", "client-cert": "none|request|require",
	"alpn": "PROTOCOLS", "tls-min-version": "VERSION", "abi": "ABI", "log-level": "LEVEL", "log-format": "FORMAT",
	"upstream": "URL", "otlp-endpoint": "URL", "url": "URL", "guest-config-string": "STRING",
	"allow-outbound": "PATTERN", "block-networks": "CIDRS", "run": "REGEXP", "lang": "LANG", "sdk": "DIR",
	"guest-output-rate": "N", "tls-key-password-file": "FILE",
}

// backquoted is a placeholder written in a flag's usage, as urfave/cli
// takes it.
var backquoted = regexp.MustCompile("`([^`]+)`")

// placeholder returns the word that stands for f's value in the help, and
// its usage without the backquotes that may have named it; "" for a flag
// that takes no value.
func placeholder(f cli.Flag) (string, string) {
	usage := ""
	if d, ok := f.(cli.DocGenerationFlag); ok {
		usage = d.GetUsage()
		if !d.TakesValue() {
			return "", usage
		}
	}
	if m := backquoted.FindStringSubmatch(usage); m != nil {
		return m[1], backquoted.ReplaceAllString(usage, "$1")
	}
	if p, ok := placeholders[f.Names()[0]]; ok {
		return p, usage
	}
	switch f := f.(type) {
	case *cli.DurationFlag:
		return "DURATION", usage
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag, *cli.Float64Flag:
		return "N", usage
	case *cli.StringFlag:
		if f.TakesFile || strings.HasSuffix(f.Name, "-file") {
			return "FILE", usage
		}
		for _, s := range []string{"-cert", "-key", "-ca", "-config", "-profile"} {
			if strings.HasSuffix(f.Name, s) {
				return "FILE", usage
			}
		}
	}
	return "VALUE", usage
}

// defaultText is f's default as the help shows it; "" when there is none
// worth showing (empty, zero, false) or its usage already tells it.
func defaultText(f cli.Flag, usage string) string {
	if strings.Contains(usage, "(default") {
		return ""
	}
	var v string
	switch f := f.(type) {
	case *cli.StringFlag:
		v = f.Value
	case *cli.IntFlag:
		v = fmt.Sprint(f.Value)
	case *cli.Float64Flag:
		v = fmt.Sprint(f.Value)
	case *cli.DurationFlag:
		v = durationText(f.Value)
	case *cli.BoolFlag:
		v = fmt.Sprint(f.Value)
	case *cli.GenericFlag:
		if f.Value != nil {
			v = f.Value.String()
		}
	}
	if v == "0" || v == "false" {
		return ""
	}
	return v
}

// durationText writes d without the zero units time.Duration.String adds
// (2m, not 2m0s); "" for 0.
func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// flagGroups returns the groups of flags in the order of the help, each
// with its flags in the order they are defined.
func flagGroups(flags []cli.Flag) (names []string, groups map[string][]cli.Flag) {
	groups = map[string][]cli.Flag{}
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		g := ""
		if c, ok := f.(cli.CategorizableFlag); ok {
			g = c.GetCategory()
		}
		if _, ok := groups[g]; !ok {
			names = append(names, g)
		}
		groups[g] = append(groups[g], f)
	}
	rank := func(g string) int {
		if i := slices.Index(groupOrder, g); i >= 0 {
			return i
		}
		if g == "" {
			return len(groupOrder) + 1
		}
		return len(groupOrder)
	}
	for _, fs := range groups {
		sort.SliceStable(fs, func(i, j int) bool {
			_, pi := helpPlace(fs[i].Names()[0])
			_, pj := helpPlace(fs[j].Names()[0])
			return pi >= 0 && (pj < 0 || pi < pj)
		})
	}
	sort.SliceStable(names, func(i, j int) bool {
		ri, rj := rank(names[i]), rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names, groups
}

// helpWidth is the width the help's descriptions are wrapped to.
const helpWidth = 80

// printCommandHelp writes the help of a command as Go commands write
// theirs: what it does, how to call it, then its flags by group, each
// with a placeholder for its value, then its description (with its default
// and its environment variable) indented below.
func printCommandHelp(w io.Writer, cmd *cli.Command) {
	name := cmd.HelpName
	if name == "" {
		name = "wasmserve " + cmd.Name
	}
	fmt.Fprintf(w, "%s - %s\n\n%s\n", name, cmd.Usage, strings.TrimSpace("Usage: "+name+" [flags] "+strings.TrimSpace(cmd.ArgsUsage)))
	if cmd.Description != "" {
		fmt.Fprintf(w, "\n%s\n", cmd.Description)
	}
	names, groups := flagGroups(cmd.Flags)
	for _, g := range names {
		title := g
		if title == "" {
			title = "Other flags"
			if len(names) == 1 {
				title = "Flags"
			}
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, f := range groups[g] {
			ph, usage := placeholder(f)
			var heads []string
			for _, n := range f.Names() {
				dash := "--"
				if len(n) == 1 {
					dash = "-"
				}
				heads = append(heads, dash+n)
			}
			head := strings.Join(heads, ", ")
			if ph != "" {
				head += " " + ph
			}
			desc := usage
			if d := defaultText(f, usage); d != "" {
				desc += " (default: " + d + ")"
			}
			if d, ok := f.(cli.DocGenerationFlag); ok && len(d.GetEnvVars()) > 0 {
				desc += " [$" + strings.Join(d.GetEnvVars(), ", $") + "]"
			}
			fmt.Fprintf(w, "  %s\n%s", head, wrap(desc, "        ", helpWidth))
		}
	}
}

// wrap breaks s into lines of at most width columns, each starting with
// indent; a word longer than a line gets a line of its own.
func wrap(s, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(s) {
		if line != indent && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	if line != indent {
		b.WriteString(line + "\n")
	}
	return b.String()
}

func init() {
	// Commands get printCommandHelp; the app's help is urfave/cli's own.
	printDefault := cli.HelpPrinter
	cli.HelpPrinter = func(w io.Writer, templ string, data any) {
		if cmd, ok := data.(*cli.Command); ok {
			printCommandHelp(w, cmd)
			return
		}
		printDefault(w, templ, data)
	}
}
