// Package accesslog builds wasmserve's access logger: a log/slog handler
// that writes JSON or logfmt lines into a buffer flushed a few times a
// second, cheap enough to log every request.
package accesslog

import (
	"context"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/wasmserve/wasmserve/internal/logsafe"
)

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

// appendUpper appends s in upper case, ASCII letters only: a level name
// without strings.ToUpper's allocation.
func appendUpper(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// New returns the access log: one line per request, to w as JSON ("json"),
// logfmt ("logfmt"), or the process log's text format ("text" or "": its
// time, level and message first, then the fields as in logfmt, so that
// both logs read alike on a terminal), through a buffer flushed every
// accessFlush. Every value is
// escaped where it holds a rune that logsafe.Unsafe names or invalid
// UTF-8, so that a request can neither split its line nor reorder it on a
// terminal. Its handler
// appends each line to a pooled buffer itself, with strconv, in one pass
// over the record: charmbracelet/log takes 10 µs a JSON line and 130 µs a
// styled text line, log/slog's own handlers 1.6 to 2.7 µs, more than a
// small guest's whole request (see RATIONALE.md). Call the returned flush
// before exiting.
func New(w io.Writer, format string) (*slog.Logger, func()) {
	fw := newFlushingWriter(w, accessFlush)
	text := format == "" || strings.EqualFold(format, "text")
	return slog.New(&handler{w: fw, json: strings.EqualFold(format, "json"), text: text, stamp: new(stamp)}), fw.close
}

// textTime is the layout of a text line's time (what stamp writes with
// millis): the process log's text format, RFC 3339 to the millisecond.
const textTime = "2006-01-02T15:04:05.000Z07:00"

// handler is a slog.Handler for access-log lines: info and above, no
// groups (WithGroup hands over to log/slog's own handler).
type handler struct {
	w     io.Writer
	json  bool
	text  bool        // the process log's text format: "TIME LEVEL msg" first
	attrs []slog.Attr // from WithAttrs
	stamp *stamp      // the time of a line, formatted once a second
}

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Enabled is true from info level on.
func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

// Handle writes one line.
func (h *handler) Handle(_ context.Context, r slog.Record) error {
	bp := buffers.Get().(*[]byte)
	b := h.appendStart((*bp)[:0], r.Time, r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b = h.appendAttr(b, a)
		return true
	})
	return h.finishLine(bp, b)
}

// appendStart appends a line's time, level and message, and the handler's
// own attributes (from WithAttrs).
func (h *handler) appendStart(b []byte, t time.Time, l slog.Level, msg string) []byte {
	if h.json {
		b = append(b, `{"time":"`...)
		b = h.stamp.appendTime(b, t, false)
		b = append(b, `","level":"`...)
		b = append(b, levelName(l)...)
		b = append(b, `","msg":`...)
		b = appendJSONString(b, msg)
	} else if h.text {
		b = h.stamp.appendTime(b, t, true)
		b = append(b, ' ')
		b = appendUpper(b, levelName(l))
		b = append(b, ' ')
		b = append(b, logsafe.String(msg)...)
	} else {
		b = append(b, "time="...)
		b = h.stamp.appendTime(b, t, false)
		b = append(b, " level="...)
		b = append(b, levelName(l)...)
		b = append(b, " msg="...)
		b = appendLogfmtString(b, msg)
	}
	for _, a := range h.attrs {
		b = h.appendAttr(b, a)
	}
	return b
}

// appendAttr appends one attribute, with its separator.
func (h *handler) appendAttr(b []byte, a slog.Attr) []byte {
	if h.json {
		b = append(b, ',')
		b = appendJSONString(b, a.Key)
		b = append(b, ':')
		return appendJSONValue(b, a.Value.Resolve())
	}
	b = append(b, ' ')
	b = appendLogfmtKey(b, a.Key)
	b = append(b, '=')
	return appendLogfmtValue(b, a.Value.Resolve())
}

// finishLine ends the line in b, writes it, and gives the buffer back to
// the pool (unless a huge line grew it).
func (h *handler) finishLine(bp *[]byte, b []byte) error {
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

// Entry is one request's access-log line. A logger from New writes it
// (see EntryLoggerOf) without log/slog's Record and Attr values, which cost a
// line more than its formatting does. The fields are those of the slog
// line, in the same order (Entry.Attrs); Query, UserAgent and Referer
// are written only when not empty, Aborted only when true. Duration is
// written in seconds, a decimal number (0.000511793), as Caddy writes it.
type Entry struct {
	Time      time.Time
	Method    string
	Host      string
	Path      string
	Query     string
	Proto     string
	Status    int
	Bytes     int64
	Duration  time.Duration
	UserAgent string
	Referer   string
	App       string // written only when not empty
	Isolate   string
	RequestID string
	Remote    string
	Aborted   bool
}

// Attrs returns e's fields as the slog attributes of its line, for a
// logger that is not from New.
func (e *Entry) Attrs() []slog.Attr {
	attrs := make([]slog.Attr, 0, 15)
	attrs = append(attrs, slog.String("method", e.Method), slog.String("host", e.Host), slog.String("path", e.Path))
	if e.Query != "" {
		attrs = append(attrs, slog.String("query", e.Query))
	}
	attrs = append(attrs, slog.String("proto", e.Proto), slog.Int("status", e.Status), slog.Int64("bytes", e.Bytes),
		slog.Duration("duration", e.Duration))
	if e.UserAgent != "" {
		attrs = append(attrs, slog.String("user_agent", e.UserAgent))
	}
	if e.Referer != "" {
		attrs = append(attrs, slog.String("referer", e.Referer))
	}
	if e.App != "" {
		attrs = append(attrs, slog.String("app", e.App))
	}
	attrs = append(attrs, slog.String("isolate", e.Isolate), slog.String("request_id", e.RequestID),
		slog.String("remote", e.Remote))
	if e.Aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	return attrs
}

// EntryLogger writes Entries to a logger from New; see EntryLoggerOf.
type EntryLogger struct{ h *handler }

// EntryLoggerOf returns the EntryLogger of l when l is a logger from New
// (or its With), or nil for any other logger, which then takes the fields
// as slog attributes.
func EntryLoggerOf(l *slog.Logger) *EntryLogger {
	if h, ok := l.Handler().(*handler); ok {
		return &EntryLogger{h}
	}
	return nil
}

// Log writes e: byte for byte the line Handle writes for the same fields
// as attributes, at info level with the message "request". It keeps
// nothing of e.
func (l *EntryLogger) Log(e *Entry) { l.h.writeEntry(e) }

// writeEntry writes e as one line at info level with the message
// "request": byte for byte what Handle writes for the same fields as
// attributes.
func (h *handler) writeEntry(e *Entry) {
	bp := buffers.Get().(*[]byte)
	b := h.appendStart((*bp)[:0], e.Time, slog.LevelInfo, "request")
	str := func(key, v string) {
		if h.json {
			b = append(b, `,"`...)
			b = append(b, key...)
			b = append(b, `":`...)
			b = appendJSONString(b, v)
		} else {
			b = append(b, ' ')
			b = append(b, key...)
			b = append(b, '=')
			b = appendLogfmtString(b, v)
		}
	}
	num := func(key string, v int64) {
		if h.json {
			b = append(b, `,"`...)
			b = append(b, key...)
			b = append(b, `":`...)
		} else {
			b = append(b, ' ')
			b = append(b, key...)
			b = append(b, '=')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	str("method", e.Method)
	str("host", e.Host)
	str("path", e.Path)
	if e.Query != "" {
		str("query", e.Query)
	}
	str("proto", e.Proto)
	num("status", int64(e.Status))
	num("bytes", e.Bytes)
	if h.json {
		b = append(b, `,"duration":`...)
	} else {
		b = append(b, " duration="...)
	}
	b = appendSeconds(b, e.Duration)
	if e.UserAgent != "" {
		str("user_agent", e.UserAgent)
	}
	if e.Referer != "" {
		str("referer", e.Referer)
	}
	if e.App != "" {
		str("app", e.App)
	}
	str("isolate", e.Isolate)
	str("request_id", e.RequestID)
	str("remote", e.Remote)
	if e.Aborted {
		if h.json {
			b = append(b, `,"aborted":true`...)
		} else {
			b = append(b, " aborted=true"...)
		}
	}
	h.finishLine(bp, b)
}

// WithAttrs returns a handler that adds attrs to every line.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{w: h.w, json: h.json, text: h.text, attrs: append(slices.Clip(h.attrs), attrs...), stamp: h.stamp}
}

// WithGroup hands over to log/slog's own handler, which knows groups,
// behind logsafe's: log/slog's JSON handler writes U+0085, DEL, C1 and
// bidirectional controls raw.
func (h *handler) WithGroup(name string) slog.Handler {
	var sh slog.Handler
	if h.json {
		sh = slog.NewJSONHandler(h.w, nil)
	} else {
		sh = slog.NewTextHandler(h.w, nil)
	}
	return logsafe.NewHandler(sh).WithAttrs(h.attrs).WithGroup(name)
}

// appendJSONValue appends v as JSON: numbers and booleans bare, durations
// in seconds (appendSeconds), everything else a string.
func appendJSONValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendJSONString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindDuration:
		return appendSeconds(b, v.Duration())
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

// jsonRaw[c] is whether appendJSONString writes the ASCII byte c as it
// is: not a quote or backslash, which JSON's grammar escapes, not tab,
// which it forbids raw in a string, and not what logsafe.Unsafe names.
// bareLogfmt[c] is whether c may stand in a logfmt value unquoted: not a
// space, '=', quote or backslash, and not what logsafe.Unsafe names.
var jsonRaw, bareLogfmt = func() (j, l [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		safe := !logsafe.Unsafe(rune(c)) && c != '"' && c != '\\'
		j[c] = safe && c != '\t'
		l[c] = safe && c > ' ' && c != '='
	}
	return j, l
}()

// appendJSONString appends s as a JSON string (RFC 8259): quotes,
// backslashes, control characters and every other rune logsafe.Unsafe
// names (U+0085, U+2028, bidirectional controls) escaped as \uXXXX,
// invalid UTF-8 replaced by U+FFFD. What it escapes decodes back to
// itself; only invalid UTF-8 is lost.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0 // s[start:i] is to be written as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonRaw[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
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
				b = appendJSONEscape(b, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case size == 1: // invalid UTF-8
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case logsafe.Unsafe(r):
			b = append(b, s[start:i]...)
			b = appendJSONEscape(b, r)
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONEscape appends r as JSON's \uXXXX escape (a UTF-16 surrogate
// pair beyond the Basic Multilingual Plane).
func appendJSONEscape(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	if r > 0xffff {
		r1, r2 := utf16.EncodeRune(r)
		return appendJSONEscape(appendJSONEscape(b, r1), r2)
	}
	return append(b, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
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
	case slog.KindDuration:
		return appendSeconds(b, v.Duration())
	case slog.KindTime:
		return v.Time().AppendFormat(b, time.RFC3339Nano)
	}
	return appendLogfmtString(b, v.String())
}

// appendLogfmtString appends s bare when it is a plain ASCII token, else
// quoted with JSON's escapes, which logfmt readers (go-logfmt) unquote.
func appendLogfmtString(b []byte, s string) []byte {
	if s == "" {
		return append(b, `""`...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !bareLogfmt[c] {
			return appendJSONString(b, s)
		}
	}
	return append(b, s...)
}

// appendLogfmtKey appends an attribute's key: as it is when it is a plain
// ASCII token, else quoted like a value (log/slog's text handler quotes
// such keys too), so that not even a key can split or reorder the line.
func appendLogfmtKey(b []byte, k string) []byte {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= utf8.RuneSelf || !bareLogfmt[c] {
			return appendJSONString(b, k)
		}
	}
	return append(b, k...)
}

// appendSeconds appends d in seconds, a decimal number without exponent
// and without trailing zeros ("0.000511793", "1.5", "5400"): exact, as
// time.ParseDuration reads it back with an "s".
func appendSeconds(b []byte, d time.Duration) []byte {
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = -u
	}
	return appendFrac(b, u, 9)
}

// appendFrac appends v/10^digits in decimal, its fraction without trailing
// zeros (and without the point when the fraction is zero).
func appendFrac(b []byte, v uint64, digits int) []byte {
	p := uint64(1)
	for range digits {
		p *= 10
	}
	b = strconv.AppendUint(b, v/p, 10)
	f := v % p
	if f == 0 {
		return b
	}
	for f%10 == 0 {
		f /= 10
		digits--
	}
	b = append(b, '.')
	for p = 1; digits > 1; digits-- {
		p *= 10
	}
	for ; p > 0; p /= 10 {
		b = append(b, byte('0'+f/p%10))
	}
	return b
}
