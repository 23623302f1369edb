package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/log"

	"github.com/wasmserve/wasmserve/internal/logsafe"
)

// newLogger builds the process logger from --log-level and --log-format. It
// is the only place the logging library is named; every package below gets
// an *slog.Logger, which escapes what logsafe.Unsafe names before the
// library sees it: its text format prints messages raw, and its JSON and
// logfmt formats let U+0085, U+2028, U+2029, C1 and bidirectional
// controls through. The *log.Logger is for this command's own messages.
//
// Every format stamps its lines with an RFC 3339 time with its zone.
func newLogger(w io.Writer, level, format string) (*log.Logger, *slog.Logger, error) {
	lvl, err := log.ParseLevel(strings.ToLower(level))
	if err != nil {
		return nil, nil, fmt.Errorf("--log-level %q is not a level: use debug, info, warn or error", level)
	}
	var f log.Formatter
	// RFC 3339 with the zone in every format, as the access log writes
	// it; the text format to the millisecond, for a terminal.
	timeFormat := time.RFC3339Nano
	switch strings.ToLower(format) {
	case "text", "":
		f, timeFormat = log.TextFormatter, textTimeFormat
	case "json":
		f = log.JSONFormatter
	case "logfmt":
		f = log.LogfmtFormatter
	default:
		return nil, nil, fmt.Errorf("--log-format %q is not a format: use text, json or logfmt", format)
	}
	// The colours w's terminal supports, from the environment alone.
	profile := lipgloss.NewRenderer(w).ColorProfile()
	l := log.NewWithOptions(notATerminal{w}, log.Options{
		Level:           lvl,
		Formatter:       f,
		ReportTimestamp: true,
		TimeFormat:      timeFormat,
	})
	l.SetColorProfile(profile)
	var h slog.Handler = logsafe.NewHandler(l)
	if logSeconds(format) {
		h = secondsHandler{h}
	}
	return l, slog.New(h), nil
}

// logSeconds reports whether lines of the log format write durations in
// seconds, a number, as the access log does: JSON and logfmt do, for
// machines; text writes them for people (1.5ms).
func logSeconds(format string) bool {
	f := strings.ToLower(format)
	return f == "json" || f == "logfmt"
}

// logDuration is d as a field of the command's own log lines in format.
func logDuration(format string, d time.Duration) any {
	if logSeconds(format) {
		return d.Seconds()
	}
	return d
}

// secondsHandler passes records on with their durations in seconds.
type secondsHandler struct{ next slog.Handler }

// Enabled is the wrapped handler's.
func (h secondsHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle passes r on, its durations in seconds.
func (h secondsHandler) Handle(ctx context.Context, r slog.Record) error {
	has := false
	r.Attrs(func(a slog.Attr) bool { has = hasDuration(a); return !has })
	if !has {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool { out.AddAttrs(inSeconds(a)); return true })
	return h.next.Handle(ctx, out)
}

// WithAttrs returns a handler whose wrapped handler has attrs, their
// durations in seconds.
func (h secondsHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = inSeconds(a)
	}
	return secondsHandler{h.next.WithAttrs(out)}
}

// WithGroup returns a handler whose wrapped handler has the group.
func (h secondsHandler) WithGroup(name string) slog.Handler {
	return secondsHandler{h.next.WithGroup(name)}
}

// hasDuration reports whether a is, or its group holds, a duration.
func hasDuration(a slog.Attr) bool {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindDuration:
		return true
	case slog.KindGroup:
		for _, g := range v.Group() {
			if hasDuration(g) {
				return true
			}
		}
	}
	return false
}

// inSeconds returns a with its durations as float seconds.
func inSeconds(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindDuration:
		return slog.Float64(a.Key, v.Duration().Seconds())
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, ga := range g {
			out[i] = inSeconds(ga)
		}
		return slog.Group(a.Key, out...)
	}
	return a
}

// notATerminal hides that a writer is a terminal from the logging library,
// which would otherwise ask the terminal for its colours and wait up to 5
// seconds for each answer, with echo off, before the first line: a stall
// at start-up on a terminal that does not answer. Its styles need the
// colour profile alone, which newLogger sets.
type notATerminal struct{ io.Writer }

// textTimeFormat is RFC 3339 to the millisecond, the time of the text
// format's lines.
const textTimeFormat = "2006-01-02T15:04:05.000Z07:00"
