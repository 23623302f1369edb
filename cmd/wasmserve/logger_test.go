package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/internal/testguest"
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

// TestLogDurations: in JSON and logfmt every duration of the server's log is
// in seconds, a number, as the access log's: the banner's compile time, a
// reload's, the grace of a shutdown; in text they are for people (30s).
func TestLogDurations(t *testing.T) {
	number := regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(e-?[0-9]+)?$`)
	for _, format := range []string{"json", "logfmt", "text"} {
		t.Run(format, func(t *testing.T) {
			cmd, base, stderr := startServer(t, "--log-format", format, "--isolates", "1",
				testguest.Path("guest-examples/hello-wat/hello.wasm"))
			get(t, base+"/")
			cmd.Process.Signal(syscall.SIGHUP)
			testguest.WaitFor(t, "the reload", func() bool { return strings.Contains(stderr.String(), "module reloaded") })
			cmd.Process.Signal(syscall.SIGINT)
			cmd.Wait()
			fields := map[string]string{} // the last value of each field
			for _, line := range strings.Split(stderr.String(), "\n") {
				if format == "json" {
					var m map[string]any
					if json.Unmarshal([]byte(line), &m) == nil {
						for k, v := range m {
							b, _ := json.Marshal(v)
							fields[k] = string(b)
						}
					}
					continue
				}
				for _, kv := range regexp.MustCompile(`([a-z_]+)=("[^"]*"|\S+)`).FindAllStringSubmatch(line, -1) {
					fields[kv[1]] = kv[2]
				}
			}
			for _, k := range []string{"compile", "took", "grace", "duration"} {
				v, ok := fields[k]
				switch {
				case !ok:
					t.Errorf("no %s field in the log:\n%s", k, stderr)
				case format != "text" && !number.MatchString(v):
					t.Errorf("%s=%s is not seconds as a number", k, v)
				case format == "text" && k == "grace" && v != "30s":
					t.Errorf("text: grace=%s, want 30s", v)
				}
			}
			if format != "text" && fields["grace"] != "30" {
				t.Errorf("grace=%s, want 30 (seconds)", fields["grace"])
			}
		})
	}
}
