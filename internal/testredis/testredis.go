// Package testredis runs a real redis-server for tests, on a free loopback
// port, with nothing saved to disk. Where redis-server is not installed
// (Debian: apt-get install redis-server) the test is skipped with a message
// saying so.
package testredis

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is one redis-server process.
type Server struct {
	// Addr is its host:port on 127.0.0.1.
	Addr string

	path string
	dir  string
	cmd  *exec.Cmd
}

// Start starts redis-server on a free loopback port and stops it when the
// test ends. It skips the test when redis-server is not installed.
func Start(tb testing.TB) *Server {
	tb.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Skip("redis-server is not installed (Debian: apt-get install redis-server): skipping the Redis test")
	}
	s, err := launch(path, tb.TempDir())
	if err != nil {
		tb.Fatalf("starting redis-server: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// StartMain starts redis-server for a whole test binary (from TestMain);
// stop stops it and removes its directory. It fails when redis-server is
// not installed.
func StartMain() (s *Server, stop func(), err error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "testredis-")
	if err != nil {
		return nil, nil, err
	}
	if s, err = launch(path, dir); err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return s, func() { s.Stop(); os.RemoveAll(dir) }, nil
}

// launch starts redis-server on a free port, trying another port when the
// one chosen was taken meanwhile.
func launch(path, dir string) (*Server, error) {
	s := &Server{path: path, dir: dir}
	for try := 0; ; try++ {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		s.Addr = addr
		if err = s.start(); err == nil || try == 4 {
			return s, err
		}
	}
}

// URL is the store URL of database db.
func (s *Server) URL(db int) string { return "redis://" + s.Addr + "/" + strconv.Itoa(db) }

// freeAddr returns a loopback address no one listens on, just now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command(s.path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--protected-mode", "no")
	if err := s.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := ping(s.Addr); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return fmt.Errorf("redis-server on %s did not answer PING within 10s", s.Addr)
}

// Stop kills the server, as an outage would, and waits for it to exit.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same address, empty.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		tb.Fatalf("restarting redis-server: %v", err)
	}
}

// ping sends PING in the inline protocol and waits for +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
