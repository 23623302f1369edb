package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// catchesSIGINT reports whether process pid has stopped ignoring SIGINT:
// it started with SIGINT ignored, so it now catches it.
func catchesSIGINT(t *testing.T, pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc status for the server: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("SigIgn %q", v)
			}
			return mask&(1<<(syscall.SIGINT-1)) == 0
		}
	}
	t.Skip("no SigIgn in /proc status")
	return false
}

// cpuTicks returns the CPU time process pid has used, in clock ticks
// (user and system, fields 14 and 15 of /proc/PID/stat).
func cpuTicks(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc stat for the server: %v", err)
	}
	// The command name, field 2, may hold spaces: count from its end.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return utime + stime
}

// exitOf waits for cmd and returns its exit code, failing the test if it
// does not exit.
func exitOf(t *testing.T, cmd *exec.Cmd, stderr *testguest.SyncBuffer) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	testguest.WaitFor(t, "the server to exit after the signal", func() bool {
		select {
		case err = <-done:
			return true
		default:
			return false
		}
	})
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%v; stderr:\n%s", err, stderr)
	}
	return 0
}

// TestInterruptDuringStart: SIGINT or SIGTERM during start-up stops it where
// it is — here a start function that never returns, or the compile of a
// Go guest — says so and exits 128 and the signal's number, even when the
// server was started with SIGINT ignored, as in the background of a script.
func TestInterruptDuringStart(t *testing.T) {
	// The servers start with SIGINT ignored: catchesSIGINT then tells when
	// the server catches signals.
	signal.Ignore(os.Interrupt)
	defer signal.Reset(os.Interrupt)
	cases := []struct {
		name   string
		sig    syscall.Signal
		code   int
		module func(t *testing.T) string
		want   string
	}{
		// A fifth of a second of CPU: in the endless start function, or
		// in the compile of the Go guest (seconds of CPU).
		{"SIGINT in a start function", syscall.SIGINT, 130,
			func(*testing.T) string { return testguest.Path("cmd/wasmserve/testdata/slowstart.wasm") },
			"interrupted while starting the isolates of "},
		{"SIGTERM in a start function", syscall.SIGTERM, 143,
			func(*testing.T) string { return testguest.Path("cmd/wasmserve/testdata/slowstart.wasm") },
			"interrupted while starting the isolates of "},
		{"SIGINT in a compile", syscall.SIGINT, 130,
			func(t *testing.T) string { return testguest.Build(t, "hello") },
			"interrupted while compiling "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			module := c.module(t)
			cmd := exec.Command(binary, "serve", "--no-cache", "--port", "0", "--address", "127.0.0.1",
				"--handler-timeout", "1h", module)
			stderr := new(testguest.SyncBuffer)
			cmd.Stderr = stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			testguest.WaitFor(t, "the server to catch SIGINT", func() bool { return catchesSIGINT(t, cmd.Process.Pid) })
			testguest.WaitFor(t, "the server to be busy starting", func() bool { return cpuTicks(t, cmd.Process.Pid) >= 20 })
			cmd.Process.Signal(c.sig)
			if code := exitOf(t, cmd, stderr); code != c.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, c.code, stderr)
			}
			log := stderr.String()
			if !strings.Contains(log, "wasmserve: "+c.want) || !strings.Contains(log, "; nothing was served") {
				t.Errorf("stderr does not say %q:\n%s", c.want, log)
			}
			if strings.Contains(log, "serving the module as it is") || strings.Contains(log, "listening on") {
				t.Errorf("an interrupted start-up went on:\n%s", log)
			}
		})
	}
}

// TestTerminalThatNeverAnswers: on a terminal that answers no query (an
// xterm, which termenv would ask for its colours, on a pty nobody reads
// queries from), the server asks nothing, prints its styled banner at
// once, and Ctrl-C typed on the terminal stops it.
func TestTerminalThatNeverAnswers(t *testing.T) {
	cmd := exec.Command(binary, "serve", "--port", "0", "--address", "127.0.0.1", "--isolates", "1",
		"--cache-dir", testguest.CacheDir(t), testguest.Path("guest-examples/hello-wat/hello.wasm"))
	cmd.Env = append(terminalEnv(os.Environ()), "TERM=xterm-256color")
	f, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); f.Close() }()
	var out testguest.SyncBuffer
	go io.Copy(&out, f)
	testguest.WaitFor(t, "the banner's URL", func() bool { return strings.Contains(out.String(), "http://127.0.0.1:") })
	got := out.String()
	for _, q := range []string{"\x1b]10;?", "\x1b]11;?", "\x1b[6n"} {
		if strings.Contains(got, q) {
			t.Errorf("the server asked the terminal %q:\n%q", q, got)
		}
	}
	if !strings.Contains(got, "╭") || !strings.Contains(got, "\x1b[") {
		t.Errorf("no styled banner on the terminal:\n%s", got)
	}
	f.Write([]byte{3}) // Ctrl-C
	if code := exitOf(t, cmd, &out); code != 0 {
		t.Errorf("exit %d after Ctrl-C, want 0:\n%s", code, out.String())
	}
}
