package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/internal/testguest"
)

// outcome is one request of a load loop.
type outcome struct {
	path  string
	wrote time.Time // when the request was fully written; zero if never
	done  time.Time // when the response was read, or the request failed
	code  int
	body  string
	err   error
}

// load runs workers that each send up to each requests (path made by
// pathFor) until stop is closed or a request fails, and returns every
// outcome.
func load(base string, workers, each int, pathFor func(w, i int) string, stop <-chan struct{}, progress func()) []outcome {
	var mu sync.Mutex
	var all []outcome
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 60 * time.Second}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				select {
				case <-stop:
					return
				default:
				}
				o := outcome{path: pathFor(w, i)}
				req, _ := http.NewRequest("GET", base+o.path, nil)
				var wmu sync.Mutex
				req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
					WroteRequest: func(httptrace.WroteRequestInfo) {
						wmu.Lock()
						if o.wrote.IsZero() {
							o.wrote = time.Now()
						}
						wmu.Unlock()
					},
				}))
				resp, err := client.Do(req)
				if err == nil {
					var b []byte
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					o.code, o.body = resp.StatusCode, string(b)
				}
				wmu.Lock()
				o.err, o.done = err, time.Now()
				wmu.Unlock()
				mu.Lock()
				all = append(all, o)
				mu.Unlock()
				progress()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return all
}

// waitExit waits up to a generous bound for cmd to exit and returns its code.
func waitExit(t *testing.T, cmd *exec.Cmd, stderr *testguest.SyncBuffer) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after the signal; stderr:\n%s", stderr)
	}
	return -1
}

// TestGracefulShutdownUnderLoad: every request written before SIGTERM gets
// its full response, and the process exits 0.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	cmd, base, stderr := startServer(t, "--isolates", "4", testguest.Path("host/testdata/faults.wasm"))
	var mu sync.Mutex
	done := 0
	started := make(chan struct{})
	progress := func() {
		mu.Lock()
		defer mu.Unlock()
		if done++; done == 40 {
			close(started)
		}
	}
	var sigAt time.Time
	go func() {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
		}
		mu.Lock()
		sigAt = time.Now()
		mu.Unlock()
		cmd.Process.Signal(syscall.SIGTERM)
	}()
	// /sleep takes 50 ms inside the guest, so at SIGTERM every worker is
	// almost surely mid-request.
	all := load(base, 8, 400, func(w, i int) string { return fmt.Sprintf("/sleep?w=%d&i=%d", w, i) }, nil, progress)
	if code := waitExit(t, cmd, stderr); code != 0 {
		t.Fatalf("exit code %d after SIGTERM; stderr:\n%s", code, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	// net/http's shutdown closes idle keep-alive connections. A request
	// written onto one in the instant before it closes is never read:
	// the client's transport retries it on a new connection and the
	// closed listener refuses the dial. Only such a request may fail, and
	// only in the last moments before the signal; requests in flight at
	// the signal (written 25 ms or more before it, answered after it)
	// must all complete, which a server dropping active connections would
	// fail.
	const raceWindow = 25 * time.Millisecond
	before, inFlight := 0, 0
	for _, o := range all {
		if o.wrote.IsZero() || !o.wrote.Before(sigAt) {
			continue
		}
		before++
		var op *net.OpError
		if sigAt.Sub(o.wrote) < raceWindow && errors.As(o.err, &op) && op.Op == "dial" {
			continue
		}
		if sigAt.Sub(o.wrote) >= raceWindow && o.done.After(sigAt) {
			inFlight++
		}
		if o.err != nil || o.code != 200 || o.body != "ok:"+o.path {
			t.Errorf("request %s written %v before SIGTERM: %d %q %v", o.path, sigAt.Sub(o.wrote), o.code, o.body, o.err)
		}
	}
	if before < 40 {
		t.Errorf("only %d requests before SIGTERM", before)
	}
	if inFlight < 4 {
		t.Errorf("only %d requests were in flight at SIGTERM; the test did not exercise draining", inFlight)
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("no clean stop logged:\n%s", stderr)
	}
}

// TestSecondSignalForces: with a guest stuck in a loop, a second SIGTERM
// ends the process with exit code 1, whether guests are interruptible
// (handler timeout on) or not (off: the exit ends them).
func TestSecondSignalForces(t *testing.T) {
	cases := []struct {
		name    string
		timeout string
	}{
		{"interruptible guests", "1h"},
		{"no handler timeout", "0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd, base, stderr := startServer(t, "--isolates", "1", "--handler-timeout", c.timeout,
				testguest.Path("host/testdata/faults.wasm"))
			go http.Get(base + "/loop")
			// The loop holds the only isolate once /ok has to queue.
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(stderr.String(), "listening") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // let the loop start; not an assertion
			cmd.Process.Signal(syscall.SIGTERM)
			for !strings.Contains(stderr.String(), "shutting down") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			if code := waitExit(t, cmd, stderr); code != 1 {
				t.Fatalf("exit code %d after a second signal, want 1; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr.String(), "forced shutdown") {
				t.Errorf("no forced shutdown logged:\n%s", stderr)
			}
		})
	}
}

// TestReloadUnderLoadCLI: replacing the module file and signalling (SIGHUP)
// or just replacing it (--watch) switches responses to the new module
// without a failed request.
func TestReloadUnderLoadCLI(t *testing.T) {
	cases := []struct {
		name  string
		watch bool
	}{
		{"SIGHUP", false},
		{"watch", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			module := filepath.Join(dir, "handler.wasm")
			copyFile(t, testguest.Path("host/testdata/faults.wasm"), module)
			args := []string{"--isolates", "2"}
			if c.watch {
				args = append(args, "--watch")
			}
			cmd, base, stderr := startServer(t, append(args, module)...)
			stop := make(chan struct{})
			var mu sync.Mutex
			newSeen := 0
			results := make(chan []outcome, 1)
			go func() {
				// Enough requests to outlast the --watch poll (1 s) on a
				// fast machine; stop ends them once the new module answered.
				results <- load(base, 4, 200000, func(w, i int) string { return fmt.Sprintf("/ok?w=%d&i=%d", w, i) }, stop, func() {})
			}()
			time.Sleep(100 * time.Millisecond) // let load build up; not an assertion
			tmp := filepath.Join(dir, "new.wasm")
			copyFile(t, testguest.Path("guest-examples/hello-wat/hello.wasm"), tmp)
			if err := os.Rename(tmp, module); err != nil {
				t.Fatal(err)
			}
			if !c.watch {
				cmd.Process.Signal(syscall.SIGHUP)
			}
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(stderr.String(), "module reloaded") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // some load on the new module
			close(stop)
			all := <-results
			for _, o := range all {
				switch {
				case o.err == nil && o.code == 200 && o.body == "ok:"+o.path:
				case o.err == nil && o.code == 200 && o.body == "Hello from wasmserve: "+o.path+"\n":
					mu.Lock()
					newSeen++
					mu.Unlock()
				default:
					t.Errorf("%s during reload: %d %q %v", o.path, o.code, o.body, o.err)
				}
			}
			if newSeen == 0 {
				t.Errorf("no response from the new module; stderr:\n%s", stderr)
			}
			if code, body := get(t, base+"/after"); code != 200 || body != "Hello from wasmserve: /after\n" {
				t.Errorf("after reload: %d %q", code, body)
			}
		})
	}
}

// TestReloadRefusesMalformed: replacing a served module with 15 bytes that
// declare 2^32-1 imports (which alone make wazero run out of memory) and
// signalling (SIGHUP) or just replacing it (--watch) leaves the process
// alive and the old module answering, and the log names the bad section.
func TestReloadRefusesMalformed(t *testing.T) {
	for _, watch := range []bool{false, true} {
		name := map[bool]string{false: "SIGHUP", true: "watch"}[watch]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			module := filepath.Join(dir, "handler.wasm")
			copyFile(t, testguest.Path("guest-examples/hello-wat/hello.wasm"), module)
			args := []string{"--isolates", "1"}
			if watch {
				args = append(args, "--watch")
			}
			cmd, base, stderr := startServer(t, append(args, module)...)
			tmp := filepath.Join(dir, "new.wasm")
			copyFile(t, "testdata/importcount.wasm", tmp)
			if err := os.Rename(tmp, module); err != nil {
				t.Fatal(err)
			}
			if !watch {
				cmd.Process.Signal(syscall.SIGHUP)
			}
			const want = "import section, offset 10: import count 4294967295 exceeds the 0 bytes left in the section"
			testguest.WaitFor(t, "the reload failure in the log", func() bool {
				return strings.Contains(stderr.String(), want)
			})
			if !strings.Contains(stderr.String(), "reload failed; the old module keeps serving") {
				t.Errorf("no reload failure logged:\n%s", stderr)
			}
			if code, body := get(t, base+"/after"); code != 200 || body != "Hello from wasmserve: /after\n" {
				t.Errorf("after the failed reload: %d %q; stderr:\n%s", code, body, stderr)
			}
			if strings.Contains(stderr.String(), "fatal error") || strings.Contains(stderr.String(), "goroutine ") {
				t.Errorf("stack trace in the log:\n%s", stderr)
			}
		})
	}
}

// TestReadWriteTimeoutFlags: without a handler timeout, --read-timeout
// answers a client that stalls in its body 408, and --write-timeout frees
// the isolate a client that stops reading holds: the next client is served.
func TestReadWriteTimeoutFlags(t *testing.T) {
	hostile := testguest.Path("host/testdata/hostile.wasm")
	_, base, stderr := startServer(t, "--isolates", "1", "--handler-timeout", "0", "--queue-timeout", "0",
		"--read-timeout", "1s", "--write-timeout", "1s", hostile)
	addr := strings.TrimPrefix(base, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nx")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("stalled body: %v; stderr:\n%s", err, stderr)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stalled body: %s, want 408", resp.Status)
	}

	w, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.(*net.TCPConn).SetReadBuffer(4096)
	io.WriteString(w, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(200 * time.Millisecond) // let it take the isolate; not an assertion
	client := &http.Client{Timeout: 10 * time.Second}
	r2, err := client.Get(base + "/other")
	if err != nil {
		t.Fatalf("a client after one that stopped reading: %v", err)
	}
	r2.Body.Close()
	if r2.StatusCode != 200 {
		t.Errorf("a client after one that stopped reading: %s", r2.Status)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
