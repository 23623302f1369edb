package accesslog

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-logfmt/logfmt"
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

var paths = []string{"/plain", "/with space", `/q"uote\back`, "/ctl\x00\x1f\n\t", "/ünïcode", "/bad\xffutf8", "/a=b", ""}

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
			m["duration"] != float64(1500000) || m["aborted"] != true || m["ratio"] != 0.5 || m["n"] != float64(7) {
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
		if got["level"] != "info" || got["msg"] != "request" || got["status"] != "200" || got["duration"] != "1.5ms" {
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
	})
}
