package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLogTimes: the server's own log lines carry an RFC 3339 time with its
// zone in every format, as the access log's do.
func TestLogTimes(t *testing.T) {
	t.Parallel()
	logfmtTime := regexp.MustCompile(`(?:^|\s)time=(\S+)`)
	cases := []struct {
		format string
		time   func(line string) string
	}{
		{"json", func(line string) string {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				return ""
			}
			s, _ := m["time"].(string)
			return s
		}},
		{"logfmt", func(line string) string {
			if m := logfmtTime.FindStringSubmatch(line); m != nil {
				return m[1]
			}
			return ""
		}},
		{"text", func(line string) string { return strings.Fields(line + " ")[0] }},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			var buf bytes.Buffer
			_, logger, err := newLogger(&buf, "info", c.format)
			if err != nil {
				t.Fatal(err)
			}
			logger.Info("listening", "port", 8080)
			line := strings.TrimSpace(buf.String())
			stamp := c.time(line)
			ts, err := time.Parse(time.RFC3339Nano, stamp)
			if err != nil {
				t.Fatalf("line %q: time %q is not RFC 3339: %v", line, stamp, err)
			}
			if d := time.Since(ts); d < -time.Minute || d > time.Minute {
				t.Errorf("time %q is %v from now", stamp, d)
			}
		})
	}
}
