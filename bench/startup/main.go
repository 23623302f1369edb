// Command startup measures how long a server takes from exec to its first
// 200: it runs the given command with "--port 0 --port-file F" appended
// before the last argument, polls for the port file and then GETs / until a
// 200 arrives, and prints the milliseconds.
//
//	startup [-n runs] -- wasmserve serve --isolates 1 hello.wasm
package main

import (
	"flag"
	"fmt"
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
	flag.Parse()
	args := flag.Args()
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: startup [-n runs] -- COMMAND ... MODULE")
		os.Exit(2)
	}
	var ms []float64
	for i := 0; i < *runs; i++ {
		d, err := once(args, *timeout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "startup:", err)
			os.Exit(1)
		}
		ms = append(ms, float64(d.Microseconds())/1000)
	}
	sort.Float64s(ms)
	fmt.Printf("%.1f\n", ms[len(ms)/2])
}

func once(args []string, timeout time.Duration) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "startup-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	pf := filepath.Join(dir, "port")
	full := append(append(append([]string{}, args[:len(args)-1]...), "--port", "0", "--port-file", pf), args[len(args)-1])
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
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(pf)
		if err != nil || len(b) == 0 {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		resp, err := client.Get("http://127.0.0.1:" + strings.TrimSpace(string(b)) + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start), nil
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	return 0, fmt.Errorf("%s: no 200 within %v", strings.Join(full, " "), timeout)
}
