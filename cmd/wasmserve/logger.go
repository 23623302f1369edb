package main

import (
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
	return l, slog.New(logsafe.NewHandler(l)), nil
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
