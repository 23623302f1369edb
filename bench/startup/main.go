// Command startup measures how long a server takes from exec to its first
// 200: it runs the given command with "--port 0 --port-file F" appended
// before the last argument, polls for the port file and then GETs / until a
// 200 arrives, and prints the milliseconds.
//
//	startup [-n runs] -- wasmserve serve --isolates 1 hello.wasm
//
// With -reload NEW it measures a reload in place instead: it serves a copy
// of the module, and once that answers, renames NEW over the copy, sends
// the server SIGHUP and prints the milliseconds until / answers 200 with a
// body other than the old module's.
//
//	startup -reload echo.wasm -- wasmserve serve --isolates 1 hello.wasm
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("n", 5, "runs; the median is printed")
	timeout := flag.Duration("timeout", 30*time.Second, "give up on a run after this long")
	reload := flag.String("reload", "", "time a SIGHUP reload to this module instead of the start")
	flag.Parse()
	args := flag.Args()
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: startup [-n runs] -- COMMAND ... MODULE")
		os.Exit(2)
	}
	var ms []float64
	for i := 0; i < *runs; i++ {
		d, err := once(args, *timeout, *reload)
		if err != nil {
			fmt.Fprintln(os.Stderr, "startup:", err)
			os.Exit(1)
		}
		ms = append(ms, float64(d.Microseconds())/1000)
	}
	sort.Float64s(ms)
	fmt.Printf("%.1f\n", ms[len(ms)/2])
}

func once(args []string, timeout time.Duration, reload string) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "startup-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	pf := filepath.Join(dir, "port")
	module := args[len(args)-1]
	if reload != "" {
		module = filepath.Join(dir, "module.wasm")
		if err := copyFile(args[len(args)-1], module); err != nil {
			return 0, err
		}
	}
	full := append(append(append([]string{}, args[:len(args)-1]...), "--port", "0", "--port-file", pf), module)
	client := &http.Client{Timeout: time.Second}

	start := time.Now()
	cmd := exec.Command(full[0], full[1:]...)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	deadline := start.Add(timeout)
	old, err := first200(client, pf, deadline, nil)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", strings.Join(full, " "), err)
	}
	if reload == "" {
		return time.Since(start), nil
	}
	next := module + ".next"
	if err := copyFile(reload, next); err != nil {
		return 0, err
	}
	if err := os.Rename(next, module); err != nil {
		return 0, err
	}
	start = time.Now()
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return 0, err
	}
	if _, err := first200(client, pf, start.Add(timeout), old); err != nil {
		return 0, fmt.Errorf("after SIGHUP to %s: %w", reload, err)
	}
	return time.Since(start), nil
}

// first200 polls for the port file and GETs / until a 200 arrives whose
// body is not other (any body, when other is nil), and returns the body.
func first200(client *http.Client, pf string, deadline time.Time, other []byte) ([]byte, error) {
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(pf)
		if err != nil || len(b) == 0 {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		resp, err := client.Get("http://127.0.0.1:" + strings.TrimSpace(string(b)) + "/")
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == 200 && (other == nil || !bytes.Equal(body, other)) {
				return body, nil
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	if other != nil {
		return nil, errors.New("no 200 with a new body before the deadline")
	}
	return nil, errors.New("no 200 before the deadline")
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}
