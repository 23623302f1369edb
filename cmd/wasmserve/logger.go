package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/charmbracelet/log"

	"github.com/wasmserve/wasmserve/internal/accesslog"
)

// newLogger builds the process logger from --log-level and --log-format. It
// is the only place the logging library is named; every package below gets
// an *slog.Logger.
func newLogger(w io.Writer, level, format string) (*log.Logger, *slog.Logger, error) {
	lvl, err := log.ParseLevel(strings.ToLower(level))
	if err != nil {
		return nil, nil, fmt.Errorf("--log-level %q is not a level: use debug, info, warn or error", level)
	}
	var f log.Formatter
	switch strings.ToLower(format) {
	case "text", "":
		f = log.TextFormatter
	case "json":
		f = log.JSONFormatter
	case "logfmt":
		f = log.LogfmtFormatter
	default:
		return nil, nil, fmt.Errorf("--log-format %q is not a format: use text, json or logfmt", format)
	}
	l := log.NewWithOptions(w, log.Options{
		Level:           lvl,
		Formatter:       f,
		ReportTimestamp: true,
		TimeFormat:      accesslog.TimeFormat,
	})
	return l, slog.New(l), nil
}
