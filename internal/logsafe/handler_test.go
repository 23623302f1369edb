package logsafe

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/charmbracelet/log"
)

// separators are the runes a reader may split a line on besides '\n', and
// the others that most change what an operator sees.
var separators = []struct{ name, r string }{
	{"newline", "\n"},
	{"next line U+0085", "\u0085"},
	{"line separator U+2028", "\u2028"},
	{"paragraph separator U+2029", "\u2029"},
	{"right-to-left override U+202E", "\u202e"},
	{"right-to-left isolate U+2067", "\u2067"},
	{"ESC", "\x1b"},
	{"invalid UTF-8", "\xff"},
}

// rawSeparators are the byte sequences no line may hold.
var rawSeparators = []string{"\u0085", "\u2028", "\u2029"}

// TestHandlerOneLine: through NewHandler, the process log's handler (in
// each of its formats) and log/slog's JSON handler write one line per
// record, with nothing unsafe in it, whichever of the separators a
// message, key, string value, error, group or WithAttrs value holds.
func TestHandlerOneLine(t *testing.T) {
	t.Parallel()
	writers := []struct {
		name string
		new  func(io.Writer) slog.Handler
	}{
		{"charm text", func(w io.Writer) slog.Handler {
			return log.NewWithOptions(w, log.Options{Formatter: log.TextFormatter, ReportTimestamp: true})
		}},
		{"charm logfmt", func(w io.Writer) slog.Handler {
			return log.NewWithOptions(w, log.Options{Formatter: log.LogfmtFormatter, ReportTimestamp: true})
		}},
		{"charm json", func(w io.Writer) slog.Handler {
			return log.NewWithOptions(w, log.Options{Formatter: log.JSONFormatter, ReportTimestamp: true})
		}},
		{"slog json", func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }},
		{"slog text", func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }},
	}
	for _, wr := range writers {
		for _, sep := range separators {
			t.Run(wr.name+"/"+sep.name, func(t *testing.T) {
				t.Parallel()
				forged := sep.r + "level=error msg=forged" + sep.r
				places := []struct {
					name string
					log  func(*slog.Logger)
				}{
					{"message", func(l *slog.Logger) { l.Info("got " + forged) }},
					{"key", func(l *slog.Logger) { l.Info("request", forged, "v") }},
					{"string value", func(l *slog.Logger) { l.Info("request", "path", "/a"+forged) }},
					{"error value", func(l *slog.Logger) { l.Warn("failed", "err", errors.New("open /a"+forged)) }},
					{"group", func(l *slog.Logger) { l.Info("request", slog.Group("req", "path", "/a"+forged)) }},
					{"WithAttrs value", func(l *slog.Logger) { l.With("path", "/a"+forged).Info("request") }},
					{"WithGroup name", func(l *slog.Logger) { l.WithGroup("g"+forged).Info("request", "k", "v") }},
				}
				for _, p := range places {
					var buf bytes.Buffer
					p.log(slog.New(NewHandler(wr.new(&buf))))
					out := buf.String()
					if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
						t.Errorf("%s: not one line: %q", p.name, out)
						continue
					}
					if i := Index(strings.TrimSuffix(out, "\n")); i >= 0 {
						t.Errorf("%s: unsafe byte at %d: %q", p.name, i, out)
					}
					for _, raw := range rawSeparators {
						if strings.Contains(out, raw) {
							t.Errorf("%s: raw %q in %q", p.name, raw, out)
						}
					}
				}
			})
		}
	}
}

// TestHandlerPassesSafeRecords: a record with nothing unsafe reaches the
// wrapped handler unchanged, its attributes' kinds kept.
func TestHandlerPassesSafeRecords(t *testing.T) {
	t.Parallel()
	var plain, wrapped bytes.Buffer
	logTo := func(h slog.Handler) {
		slog.New(h).With("service", "edge").WithGroup("req").Info("request ✓", "path", "/ünïcode\tx",
			"status", 200, "ok", true, "err", errors.New("no such file"), "ids", []int{1, 2})
	}
	opts := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	logTo(slog.NewJSONHandler(&plain, opts))
	logTo(NewHandler(slog.NewJSONHandler(&wrapped, opts)))
	if plain.String() != wrapped.String() {
		t.Errorf("wrapped:\n%s\nplain:\n%s", wrapped.String(), plain.String())
	}
}

// TestHandlerEscapesAnyValue: a value of kind Any holding an unsafe rune
// reaches the wrapped handler as its escaped fmt.Sprint form.
func TestHandlerEscapesAnyValue(t *testing.T) {
	t.Parallel()
	var got slog.Value
	h := NewHandler(recordHandler(func(r slog.Record) {
		r.Attrs(func(a slog.Attr) bool { got = a.Value; return false })
	}))
	slog.New(h).Info("request", "paths", []string{"/a\u2028b"})
	if got.Kind() != slog.KindString || got.String() != `[/a\u2028b]` {
		t.Errorf("value %v (%s), want the string [/a\\u2028b]", got, got.Kind())
	}
}

// recordHandler is a slog.Handler that hands each record to f.
type recordHandler func(slog.Record)

func (recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (f recordHandler) Handle(_ context.Context, r slog.Record) error {
	f(r)
	return nil
}
func (f recordHandler) WithAttrs([]slog.Attr) slog.Handler { return f }
func (f recordHandler) WithGroup(string) slog.Handler      { return f }
