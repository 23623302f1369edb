package accesslog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-logfmt/logfmt"

	"github.com/wasmserve/wasmserve/internal/logsafe"
)

// line logs one request with tricky values and returns what was written.
func line(t *testing.T, format, path string) string {
	t.Helper()
	var buf bytes.Buffer
	l, flush := New(&buf, format)
	l.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("method", "GET"), slog.String("path", path), slog.Int("status", 200),
		slog.Int64("bytes", 29), slog.Duration("duration", 1500*time.Microsecond), slog.Bool("aborted", true),
		slog.Float64("ratio", 0.5), slog.Uint64("n", 7))
	l.LogAttrs(context.Background(), slog.LevelDebug, "hidden")
	flush()
	return buf.String()
}

var paths = []string{"/plain", "/with space", `/q"uote\back`, "/ctl\x00\x1f\n\t", "/ünïcode", "/bad\xffutf8", "/a=b", "",
	"/sep\u0085\u2028\u2029\x7f\u202e\u2066"}

func TestJSONLines(t *testing.T) {
	for _, p := range paths {
		out := line(t, "json", p)
		if strings.Count(out, "\n") != 1 {
			t.Fatalf("%q: want one line, got %q", p, out)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%q: %v: %s", p, err, out)
		}
		want := strings.ToValidUTF8(p, "\ufffd")
		if m["path"] != want || m["level"] != "info" || m["msg"] != "request" || m["status"] != float64(200) ||
			m["duration"] != 0.0015 || m["aborted"] != true || m["ratio"] != 0.5 || m["n"] != float64(7) {
			t.Errorf("%q: decoded %v", p, m)
		}
		if _, err := time.Parse(time.RFC3339Nano, m["time"].(string)); err != nil {
			t.Errorf("time %v: %v", m["time"], err)
		}
	}
}

func TestLogfmtLines(t *testing.T) {
	for _, p := range paths {
		out := line(t, "logfmt", p)
		d := logfmt.NewDecoder(strings.NewReader(out))
		got := map[string]string{}
		for d.ScanRecord() {
			for d.ScanKeyval() {
				got[string(d.Key())] = string(d.Value())
			}
		}
		if err := d.Err(); err != nil {
			t.Fatalf("%q: %v: %s", p, err, out)
		}
		want := p
		if !utf8.ValidString(p) {
			want = strings.ToValidUTF8(p, "\ufffd")
		}
		if got["path"] != want && !(strings.ContainsRune(got["path"], utf8.RuneError) && !utf8.ValidString(p)) {
			t.Errorf("%q: path %q from %s", p, got["path"], out)
		}
		if got["level"] != "info" || got["msg"] != "request" || got["status"] != "200" || got["duration"] != "0.0015" {
			t.Errorf("%q: %v", p, got)
		}
	}
}

func FuzzJSONString(f *testing.F) {
	for _, p := range paths {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encodes as invalid JSON %s: %v", s, b, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); utf8.ValidString(s) && got != want {
			t.Fatalf("%q round-trips as %q", s, got)
		}
		if i := logsafe.Index(string(b)); i >= 0 {
			t.Fatalf("%q encodes as %q, unsafe at %d", s, b, i)
		}
	})
}

// TestAppendSeconds: appendSeconds writes d in seconds, exactly: what
// time.ParseDuration reads back as d, with no exponent.
func TestAppendSeconds(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0"}, {1, "0.000000001"}, {511793, "0.000511793"}, {1500 * time.Microsecond, "0.0015"},
		{time.Second, "1"}, {1500 * time.Millisecond, "1.5"}, {90 * time.Minute, "5400"},
		{-1500, "-0.0000015"}, {math.MaxInt64, "9223372036.854775807"}, {math.MinInt64, "-9223372036.854775808"},
	} {
		if got := string(appendSeconds(nil, c.d)); got != c.want {
			t.Errorf("appendSeconds(%d) = %q, want %q", int64(c.d), got, c.want)
		}
	}
}

func FuzzAppendSeconds(f *testing.F) {
	f.Add(int64(1234567))
	f.Fuzz(func(t *testing.T, n int64) {
		got := string(appendSeconds(nil, time.Duration(n)))
		if strings.ContainsAny(got, "eE") {
			t.Fatalf("appendSeconds(%d) = %q has an exponent", n, got)
		}
		if back, err := time.ParseDuration(got + "s"); err != nil || back != time.Duration(n) {
			t.Fatalf("appendSeconds(%d) = %q reads back as %d, %v", n, got, back, err)
		}
	})
}

// TestEntryAsRecord: an Entry written through Writer is byte for byte the
// line of the same fields logged as slog attributes, in both formats, with
// attributes from WithAttrs, aborted or not, with an app or without, with
// values that need quoting.
func TestEntryAsRecord(t *testing.T) {
	now := time.Date(2026, 12, 2, 4, 5, 6, 7000, time.UTC)
	entries := map[string]Entry{
		"plain": {Time: now, Method: "GET", Host: "example.com", Path: "/", Proto: "HTTP/1.1", Status: 200, Bytes: 13,
			Duration: 812 * time.Microsecond, Isolate: "3", RequestID: "00ab", Remote: "127.0.0.1:5000"},
		"aborted": {Time: now, Method: "POST", Host: "h:8080", Path: "/with space\n\"q\"", Query: "a=1&b=x y",
			Proto: "HTTP/2.0", Status: 500, Duration: 90 * time.Minute, UserAgent: "curl/8.5.0 \u202e",
			Referer: "https://example.com/?q=\"1\"", Remote: "[::1]:1", Aborted: true},
		"empty": {Time: now},
		"app": {Time: now, Method: "GET", Path: "/hello/x", Proto: "HTTP/1.1", Status: 200, Bytes: 5,
			Duration: time.Millisecond, App: "hello world", Isolate: "1", RequestID: "00cd", Remote: "127.0.0.1:5001"},
	}
	for _, format := range []string{"json", "logfmt"} {
		for name, e := range entries {
			t.Run(format+" "+name, func(t *testing.T) {
				var viaEntry, viaRecord bytes.Buffer
				l, flush := New(&viaEntry, format)
				l = l.With("service", "edge")
				EntryLoggerOf(l).Log(&e)
				flush()
				l2, flush2 := New(&viaRecord, format)
				l2 = l2.With("service", "edge")
				r := slog.NewRecord(e.Time, slog.LevelInfo, "request", 0)
				r.AddAttrs(e.Attrs()...)
				l2.Handler().Handle(context.Background(), r)
				flush2()
				if viaEntry.String() != viaRecord.String() {
					t.Errorf("as an Entry:\n%s\nas a record:\n%s", viaEntry.String(), viaRecord.String())
				}
			})
		}
	}
	if EntryLoggerOf(slog.New(slog.NewTextHandler(io.Discard, nil))) != nil {
		t.Error("EntryLoggerOf another handler's logger is not nil")
	}
}

// BenchmarkLine is one access-log line written as an Entry and as a slog
// record of the same attributes, to io.Discard through the flushing buffer.
func BenchmarkLine(b *testing.B) {
	e := Entry{Time: time.Now(), Method: "GET", Host: "localhost:8080", Path: "/bench", Proto: "HTTP/1.1", Status: 200, Bytes: 13,
		Duration: 81234 * time.Nanosecond, UserAgent: "curl/8.5.0", Isolate: "1", RequestID: "6f1c2a9d00000001",
		Remote: "127.0.0.1:54321"}
	for _, format := range []string{"json", "logfmt", "text"} {
		l, flush := New(io.Discard, format)
		b.Run(format+"/entry", func(b *testing.B) {
			el := EntryLoggerOf(l)
			b.ReportAllocs()
			for range b.N {
				el.Log(&e)
			}
		})
		b.Run(format+"/record", func(b *testing.B) {
			h := l.Handler()
			b.ReportAllocs()
			for range b.N {
				r := slog.NewRecord(e.Time, slog.LevelInfo, "request", 0)
				r.AddAttrs(e.Attrs()...)
				h.Handle(context.Background(), r)
			}
		})
		flush()
	}
}

// TestFlushingWriterKeepsEveryLine: 8 goroutines write 20 000 lines of
// different lengths at once, filling shards many times over; after close
// every line is there exactly once and whole.
func TestFlushingWriterKeepsEveryLine(t *testing.T) {
	var out bytes.Buffer
	f := newFlushingWriter(&out, time.Millisecond)
	const writers, lines = 8, 2500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				line := fmt.Sprintf("g=%d i=%d %s\n", g, i, strings.Repeat("x", i%300))
				if n, err := f.Write([]byte(line)); n != len(line) || err != nil {
					t.Errorf("Write: %d, %v", n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	f.close()
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var g, i int
		var xs string
		if n, _ := fmt.Sscanf(l, "g=%d i=%d %s", &g, &i, &xs); n < 2 || len(xs) != i%300 && !(i%300 == 0 && xs == "") {
			t.Fatalf("a torn line: %q", l)
		}
		if seen[l] {
			t.Fatalf("line twice: %q", l)
		}
		seen[l] = true
	}
	if len(seen) != writers*lines {
		t.Errorf("%d lines out, want %d", len(seen), writers*lines)
	}
}

// TestSeparatorsForgeNoLine: a request path holding a line separator, a
// bidirectional control or DEL (with a forged line after it) is written
// on one line in every format, through an Entry and through a slog record
// (as a value, a WithAttrs value, a key and a WithGroup name), with no raw
// U+0085, U+2028 or U+2029 and nothing else logsafe.Unsafe names; the
// value decodes back to the path.
func TestSeparatorsForgeNoLine(t *testing.T) {
	t.Parallel()
	seps := []struct{ name, r string }{
		{"newline", "\n"},
		{"carriage return", "\r"},
		{"next line U+0085", "\u0085"},
		{"line separator U+2028", "\u2028"},
		{"paragraph separator U+2029", "\u2029"},
		{"right-to-left override U+202E", "\u202e"},
		{"pop directional isolate U+2069", "\u2069"},
		{"DEL", "\x7f"},
		{"C1 U+009B", "\u009b"},
	}
	ways := []struct {
		name string
		log  func(l *slog.Logger, path string)
	}{
		{"entry", func(l *slog.Logger, path string) {
			EntryLoggerOf(l).Log(&Entry{Time: time.Now(), Method: "GET", Path: path, Proto: "HTTP/1.1", Status: 200})
		}},
		{"record", func(l *slog.Logger, path string) {
			l.LogAttrs(context.Background(), slog.LevelInfo, "request", slog.String("path", path))
		}},
		{"WithAttrs", func(l *slog.Logger, path string) { l.With("path", path).Info("request") }},
		{"key", func(l *slog.Logger, path string) { l.Info("request", "path", path, path, "v") }},
		{"WithGroup", func(l *slog.Logger, path string) { l.WithGroup("g"+path).Info("request", "path", path) }},
	}
	for _, format := range []string{"text", "logfmt", "json"} {
		for _, sep := range seps {
			t.Run(format+"/"+sep.name, func(t *testing.T) {
				t.Parallel()
				path := "/a" + sep.r + "time=2026-01-01T00:00:00Z level=error msg=forged" + sep.r + "b"
				for _, w := range ways {
					var buf bytes.Buffer
					l, flush := New(&buf, format)
					w.log(l, path)
					flush()
					out := buf.String()
					if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
						t.Errorf("%s: not one line: %q", w.name, out)
						continue
					}
					for _, raw := range []string{"\u0085", "\u2028", "\u2029"} {
						if strings.Contains(out, raw) {
							t.Errorf("%s: raw %q in %q", w.name, raw, out)
						}
					}
					if i := logsafe.Index(strings.TrimSuffix(out, "\n")); i >= 0 {
						t.Errorf("%s: unsafe byte at %d in %q", w.name, i, out)
					}
					if w.name == "key" || w.name == "WithGroup" {
						continue // log/slog's handlers and keys: one safe line is all
					}
					if got := decodedPath(t, format, out); got != path {
						t.Errorf("%s: path decodes as %q, want %q, from %q", w.name, got, path, out)
					}
				}
			})
		}
	}
}

// decodedPath returns the path field of one JSON or logfmt line.
func decodedPath(t *testing.T, format, line string) string {
	t.Helper()
	if format == "json" {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		p, _ := m["path"].(string)
		return p
	}
	d := logfmt.NewDecoder(strings.NewReader(line))
	var path string
	for d.ScanRecord() {
		for d.ScanKeyval() {
			if string(d.Key()) == "path" {
				path = string(d.Value())
			}
		}
	}
	if err := d.Err(); err != nil {
		t.Fatalf("%v: %q", err, line)
	}
	return path
}

// TestJSONStringEscapes: what appendJSONString escapes, and that it
// leaves printable text (tab aside) as it is.
func TestJSONStringEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "/a b", `"/a b"`},
		{"quote and backslash", `q"\`, `"q\"\\"`},
		{"newline, return, tab", "\n\r\t", `"\n\r\t"`},
		{"NUL and ESC", "\x00\x1b", `"\u0000\u001b"`},
		{"DEL", "\x7f", `"\u007f"`},
		{"next line", "\u0085", `"\u0085"`},
		{"separators", "\u2028\u2029", `"\u2028\u2029"`},
		{"bidi controls", "\u202a\u202e\u2066\u2069", `"\u202a\u202e\u2066\u2069"`},
		{"invalid UTF-8", "a\xffb", `"a\ufffdb"`},
		{"UTF-8 kept", "/ünïcode ✓ \u00a0 \u200f", "\"/ünïcode ✓ \u00a0 \u200f\""},
		{"astral kept", "😀", `"😀"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(appendJSONString(nil, tt.in)); got != tt.want {
				t.Errorf("appendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	for r := rune(0x10000); r < 0x10003; r++ {
		if got, want := string(appendJSONEscape(nil, r)), fmt.Sprintf(`\u%04x\u%04x`, 0xd800, 0xdc00+r-0x10000); got != want {
			t.Errorf("appendJSONEscape(%U) = %s, want %s", r, got, want)
		}
	}
}

// TestTextFormat: with the process log's text format, an access line starts
// as the process log's lines do (time to the millisecond, level, message),
// then the fields as logfmt writes them.
func TestTextFormat(t *testing.T) {
	for _, format := range []string{"text", ""} {
		var buf bytes.Buffer
		l, flush := New(&buf, format)
		e := Entry{Time: time.Date(2026, 12, 2, 4, 5, 6, 7_000_000, time.UTC), Method: "GET", Host: "h", Path: "/x",
			Proto: "HTTP/1.1", Status: 200, Bytes: 3, Duration: 1500 * time.Microsecond, RequestID: "r1"}
		EntryLoggerOf(l).Log(&e)
		flush()
		want := "2026-12-02T04:05:06.007Z INFO request method=GET host=h path=/x proto=HTTP/1.1 status=200 bytes=3 duration=0.0015"
		if got := buf.String(); !strings.HasPrefix(got, want) {
			t.Errorf("format %q: %q, want it to start %q", format, got, want)
		}
	}
}

// TestConcurrentEntriesKeepEveryLine: entries logged from 8 goroutines at
// once, some longer than a whole shard, all reach the writer whole, each
// exactly once, as the same entry written alone would.
func TestConcurrentEntriesKeepEveryLine(t *testing.T) {
	for _, format := range []string{"json", "logfmt", "text"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			l, flush := New(&out, format)
			el := EntryLoggerOf(l)
			var one bytes.Buffer
			l1, flush1 := New(&one, format)
			el1 := EntryLoggerOf(l1)
			entry := func(g, i int) Entry {
				return Entry{Time: time.Unix(1_800_000_000, int64(i)).UTC(), Method: "GET", Host: "h",
					Path: "/" + strings.Repeat("p", (i*37)%(3*shardSize/2)), Proto: "HTTP/1.1", Status: 200,
					RequestID: fmt.Sprintf("g%d-i%d", g, i), Isolate: "i1", Remote: "127.0.0.1:1"}
			}
			const writers, lines = 8, 400
			var wg sync.WaitGroup
			for g := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range lines {
						e := entry(g, i)
						el.Log(&e)
					}
				}()
			}
			wg.Wait()
			flush()
			want := map[string]bool{}
			for g := range writers {
				for i := range lines {
					e := entry(g, i)
					one.Reset()
					el1.Log(&e)
					flush1()
					l1, flush1 = New(&one, format)
					el1 = EntryLoggerOf(l1)
					want[one.String()] = true
				}
			}
			got := strings.SplitAfter(out.String(), "\n")
			if got[len(got)-1] == "" {
				got = got[:len(got)-1]
			}
			if len(got) != writers*lines {
				t.Fatalf("%d lines, want %d", len(got), writers*lines)
			}
			for _, line := range got {
				if !want[line] {
					t.Fatalf("a line no entry writes alone (or twice): %.200q", line)
				}
				delete(want, line)
			}
		})
	}
}
