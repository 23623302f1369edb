//go:build wasip1

package guest

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"unsafe"
)

// NewLogHandler returns a slog.Handler that writes records to the host's
// log with the ABI's log function, at the host level nearest the record's
// (below info is debug, below warn info, below error warn, else error). The
// host adds the time, the level and which module and isolate logged; the
// message is the record's, followed by its attributes in slog's text form
// (key=value). Records below opts.Level, or below the level the host
// records (log_enabled), are dropped before they are formatted. opts may be
// nil; its ReplaceAttr and AddSource apply as in slog.TextHandler.
//
// Use it as the default logger from an init function:
//
//	slog.SetDefault(slog.New(guest.NewLogHandler(nil)))
func NewLogHandler(opts *slog.HandlerOptions) slog.Handler {
	var o slog.HandlerOptions
	if opts != nil {
		o = *opts
	}
	out := &logOutput{}
	user := o.ReplaceAttr
	o.Level = slog.LevelDebug - 4 // the host and Enabled decide
	o.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 {
			switch a.Key {
			case slog.TimeKey, slog.LevelKey, slog.MessageKey:
				return slog.Attr{}
			}
		}
		if user != nil {
			return user(groups, a)
		}
		return a
	}
	var min slog.Leveler = slog.LevelInfo
	if opts != nil && opts.Level != nil {
		min = opts.Level
	}
	return &logHandler{text: slog.NewTextHandler(out, &o), out: out, min: min}
}

// logHandler formats a record's attributes with a TextHandler into out,
// then hands the line to the host.
type logHandler struct {
	text slog.Handler
	out  *logOutput
	min  slog.Leveler
}

// logOutput is the buffer the TextHandler writes one record into; mu holds
// it from formatting to the host call.
type logOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *logOutput) Write(p []byte) (int, error) { return o.buf.Write(p) }

// hostLevel maps a slog level to the ABI's.
func hostLevel(l slog.Level) LogLevel {
	switch {
	case l < slog.LevelInfo:
		return LogLevelDebug
	case l < slog.LevelWarn:
		return LogLevelInfo
	case l < slog.LevelError:
		return LogLevelWarn
	}
	return LogLevelError
}

// Enabled implements slog.Handler.
func (h *logHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.min.Level() && LogEnabled(hostLevel(l))
}

// Handle implements slog.Handler.
func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	b := &h.out.buf
	b.Reset()
	b.WriteString(r.Message)
	b.WriteByte(' ')
	if err := h.text.Handle(ctx, r); err != nil {
		return err
	}
	msg := bytes.TrimRight(b.Bytes(), " \n")
	hostLog(hostLevel(r.Level), unsafe.String(unsafe.SliceData(msg), len(msg)))
	return nil
}

// WithAttrs implements slog.Handler.
func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{text: h.text.WithAttrs(as), out: h.out, min: h.min}
}

// WithGroup implements slog.Handler.
func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{text: h.text.WithGroup(name), out: h.out, min: h.min}
}
