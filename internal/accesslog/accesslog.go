// Package accesslog builds wasmserve's access logger: a log/slog handler
// that writes JSON or logfmt lines into a buffer flushed a few times a
// second, cheap enough to log every request.
package accesslog

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// TimeFormat is the time of day the process log's text lines start with.
const TimeFormat = "15:04:05.000"

// levelName is a level in lower case, without allocating for the four
// levels.
func levelName(l slog.Level) string {
	switch l {
	case slog.LevelDebug:
		return "debug"
	case slog.LevelInfo:
		return "info"
	case slog.LevelWarn:
		return "warn"
	case slog.LevelError:
		return "error"
	}
	return strings.ToLower(l.String())
}

// New returns the access log: one line per request, to w as JSON ("json")
// or logfmt (anything else) with the process log's field names (time,
// level, msg), through a buffer flushed every accessFlush. Its handler
// appends each line to a pooled buffer itself, with strconv, in one pass
// over the record: charmbracelet/log takes 10 µs a JSON line and 130 µs a
// styled text line, log/slog's own handlers 1.6 to 2.7 µs, more than a
// small guest's whole request (see RATIONALE.md). Call the returned flush
// before exiting.
func New(w io.Writer, format string) (*slog.Logger, func()) {
	fw := newFlushingWriter(w, accessFlush)
	return slog.New(&handler{w: fw, json: strings.EqualFold(format, "json")}), fw.close
}

// handler is a slog.Handler for access-log lines: info and above, no
// groups (WithGroup hands over to log/slog's own handler).
type handler struct {
	w     io.Writer
	json  bool
	attrs []slog.Attr // from WithAttrs
}

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Enabled is true from info level on.
func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

// Handle writes one line.
func (h *handler) Handle(_ context.Context, r slog.Record) error {
	bp := buffers.Get().(*[]byte)
	b := (*bp)[:0]
	if h.json {
		b = append(b, `{"time":"`...)
		b = r.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","level":"`...)
		b = append(b, levelName(r.Level)...)
		b = append(b, `","msg":`...)
		b = appendJSONString(b, r.Message)
	} else {
		b = append(b, "time="...)
		b = r.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, " level="...)
		b = append(b, levelName(r.Level)...)
		b = append(b, " msg="...)
		b = appendLogfmtString(b, r.Message)
	}
	attr := func(a slog.Attr) bool {
		if h.json {
			b = append(b, ',')
			b = appendJSONString(b, a.Key)
			b = append(b, ':')
			b = appendJSONValue(b, a.Value.Resolve())
		} else {
			b = append(b, ' ')
			b = append(b, a.Key...)
			b = append(b, '=')
			b = appendLogfmtValue(b, a.Value.Resolve())
		}
		return true
	}
	for _, a := range h.attrs {
		attr(a)
	}
	r.Attrs(attr)
	if h.json {
		b = append(b, '}')
	}
	b = append(b, '\n')
	_, err := h.w.Write(b)
	if cap(b) <= 64<<10 {
		*bp = b
		buffers.Put(bp)
	}
	return err
}

// WithAttrs returns a handler that adds attrs to every line.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{w: h.w, json: h.json, attrs: append(slices.Clip(h.attrs), attrs...)}
}

// WithGroup hands over to log/slog's own handler, which knows groups.
func (h *handler) WithGroup(name string) slog.Handler {
	var sh slog.Handler
	if h.json {
		sh = slog.NewJSONHandler(h.w, nil)
	} else {
		sh = slog.NewTextHandler(h.w, nil)
	}
	return sh.WithAttrs(h.attrs).WithGroup(name)
}

// appendJSONValue appends v as JSON: numbers and booleans bare, durations
// in nanoseconds (as log/slog's JSON handler), everything else a string.
func appendJSONValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendJSONString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindDuration:
		return strconv.AppendInt(b, int64(v.Duration()), 10)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindFloat64:
		if f := v.Float64(); !math.IsInf(f, 0) && !math.IsNaN(f) {
			return strconv.AppendFloat(b, f, 'g', -1, 64)
		}
	case slog.KindTime:
		b = append(b, '"')
		b = v.Time().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	return appendJSONString(b, v.String())
}

// appendJSONString appends s as a JSON string (RFC 8259): quotes,
// backslashes and control characters escaped, invalid UTF-8 replaced by
// U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
		i++
	}
	return append(b, '"')
}

// appendLogfmtValue appends v as a logfmt value: as log/slog's text handler
// writes it.
func appendLogfmtValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendLogfmtString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindTime:
		return v.Time().AppendFormat(b, time.RFC3339Nano)
	}
	return appendLogfmtString(b, v.String())
}

// appendLogfmtString appends s bare when it is a plain token, else quoted
// with JSON's escapes, which logfmt readers (go-logfmt) unquote.
func appendLogfmtString(b []byte, s string) []byte {
	if s == "" {
		return append(b, `""`...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '=' || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return appendJSONString(b, s)
		}
	}
	return append(b, s...)
}

// accessFlush is how long an access-log line may wait in its buffer.
const accessFlush = 100 * time.Millisecond

// flushingWriter buffers writes to w and flushes them every interval (and
// when the buffer fills), so that a busy server makes one write(2) for many
// lines instead of one each.
type flushingWriter struct {
	mu   sync.Mutex
	bw   *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

func newFlushingWriter(w io.Writer, interval time.Duration) *flushingWriter {
	f := &flushingWriter{bw: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				f.flush()
			case <-f.stop:
				f.flush()
				return
			}
		}
	}()
	return f
}

// Write buffers p.
func (f *flushingWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bw.Write(p)
}

func (f *flushingWriter) flush() {
	f.mu.Lock()
	f.bw.Flush()
	f.mu.Unlock()
}

// close flushes what is buffered and stops the flushing goroutine; later
// writes stay in the buffer.
func (f *flushingWriter) close() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	<-f.done
}
