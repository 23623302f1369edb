package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/log"
	"github.com/charmbracelet/x/term"
	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/host"
	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/host/server"
)

// bannerFacts is what the start-up banner tells.
type bannerFacts struct {
	path  string
	wasm  []byte
	hc    host.HandlerConfig
	h     *host.Handler
	srv   *server.Server
	admin *observe.Admin // nil without --admin
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// banner tells what is being served and how it was prepared: a styled box
// on stdout when stdout is a terminal and the log format is text (it then
// holds the URLs too, unless --no-url, and styled is true), else log lines
// with the same facts as fields.
func banner(c *cli.Context, charm *log.Logger, f bannerFacts) (styled bool) {
	st := f.h.Pool().Stats()
	cache := "off"
	if f.hc.CacheDir != "" {
		cache = "miss"
		if st.CacheHit {
			cache = "hit"
		}
	}
	sum := sha256.Sum256(f.wasm)
	digest := hex.EncodeToString(sum[:6])
	_, abiTitle, abiWhy := f.h.ABI()
	limits := limitsText(f.hc)
	format := strings.ToLower(c.String("log-format"))
	if (format == "text" || format == "") && isTerminal(c.App.Writer) {
		rows := [][2]string{
			{"module", fmt.Sprintf("%s (%s, sha256 %s)", f.path, humanSize(len(f.wasm)), digest)},
			{"abi", abiTitle + " (" + abiWhy + ")"},
			{"isolates", fmt.Sprintf("%d, compiled in %s (cache %s), instantiated in %s", f.h.Pool().Size(),
				st.CompileTime.Round(time.Millisecond), cache, st.InstantiateTime.Round(time.Millisecond))},
			{"limits", limits},
		}
		if f.admin != nil {
			rows = append(rows, [2]string{"admin", f.admin.URL()})
		}
		if !c.Bool("no-url") {
			for _, u := range f.srv.URLs() {
				rows = append(rows, [2]string{"url", u})
			}
			if a := f.srv.HTTP3Addr(); a != nil {
				rows = append(rows, [2]string{"http/3", "UDP " + a.String()})
			}
		}
		fmt.Fprintln(c.App.Writer, styledBanner(c.App.Writer, "wasmserve "+versionString(), rows))
		styled = true
	} else {
		args := []any{"module", f.path, "size", len(f.wasm), "sha256", digest, "abi", abiTitle, "abi_reason", abiWhy,
			"isolates", f.h.Pool().Size(), "compile", logDuration(format, st.CompileTime.Round(time.Millisecond)), "cache", cache,
			"instantiate", logDuration(format, st.InstantiateTime.Round(time.Millisecond)), "limits", limits}
		if f.admin != nil {
			args = append(args, "admin", f.admin.URL())
		}
		charm.Info("wasmserve "+versionString(), args...)
	}
	if f.hc.MaxRequestsPerIsolate > 0 {
		if st.ResetBlocker == "" {
			charm.Info("isolates are renewed by resetting their memory and globals to the state after start",
				"every", f.hc.MaxRequestsPerIsolate)
		} else {
			charm.Info("isolates are renewed by new instances, which is slower: the module cannot be reset because "+
				st.ResetBlocker, "every", f.hc.MaxRequestsPerIsolate)
		}
	}
	if r := f.srv.Resolved(); len(r.Candidates) > 1 {
		charm.Info("address resolved to several IPs; using the first",
			"address", r.Name, "using", r.IP, "candidates", r.Candidates)
	}
	return styled
}

// limitsText is the limits of one request, in a line.
func limitsText(hc host.HandlerConfig) string {
	d := func(v time.Duration) string {
		if v == 0 {
			return "none"
		}
		return v.String()
	}
	body := "none"
	if hc.MaxBody > 0 {
		body = humanSize(int(hc.MaxBody))
	}
	mem := "4GiB"
	if hc.MemoryLimit > 0 {
		mem = humanSize(int(hc.MemoryLimit))
	}
	return fmt.Sprintf("memory %s, handler timeout %s, body %s, queue timeout %s", mem, d(hc.HandlerTimeout), body, d(hc.QueueTimeout))
}

// humanSize writes n bytes with a binary unit.
func humanSize(n int) string {
	for _, u := range []struct {
		size int
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		switch {
		case n >= u.size && n%u.size == 0:
			return fmt.Sprintf("%d%s", n/u.size, u.name)
		case n >= u.size:
			return fmt.Sprintf("%.1f%s", float64(n)/float64(u.size), u.name)
		}
	}
	return fmt.Sprintf("%dB", n)
}

// styledBanner renders a title and rows in a rounded box with lipgloss, in
// the colours w's terminal supports.
func styledBanner(w io.Writer, title string, rows [][2]string) string {
	r := lipgloss.NewRenderer(w)
	titleStyle := r.NewStyle().Bold(true).Foreground(lipgloss.Color("12"))
	keyStyle := r.NewStyle().Foreground(lipgloss.Color("8")).Width(9)
	urlStyle := r.NewStyle().Foreground(lipgloss.Color("10"))
	lines := []string{titleStyle.Render(title), ""}
	for _, row := range rows {
		v := row[1]
		if row[0] == "url" || row[0] == "admin" {
			v = urlStyle.Render(v)
		}
		lines = append(lines, keyStyle.Render(row[0])+v)
	}
	return r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(lipgloss.Color("12")).
		Padding(0, 1).Render(strings.Join(lines, "\n"))
}
