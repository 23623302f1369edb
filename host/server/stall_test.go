package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/observe"
)

// bigHandler writes up to 64 MiB under a 300 ms write deadline, as the
// host's handler does under its write timeout, and reports how its writes
// ended.
func bigHandler(ended chan<- error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		chunk := make([]byte, 32<<10)
		var err error
		for written := 0; written < 64<<20 && err == nil; written += len(chunk) {
			_, err = w.Write(chunk)
		}
		ended <- err
	})
}

// writeTimeouts is the wasmserve_http_write_timeouts_total of proto.
func writeTimeouts(m *observe.Metrics, proto string) float64 {
	mfs, _ := m.Registry().Gather()
	for _, mf := range mfs {
		if mf.GetName() != "wasmserve_http_write_timeouts_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			if s.GetLabel()[0].GetValue() == proto {
				return s.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestStalledReaderReset: a client that sends a request for a big response
// and never reads gets its connection reset once the write deadline passes:
// the server's socket is gone at once (not lingering with the unsent
// bytes), the client reads what reached it and then ECONNRESET, and the
// stall is counted.
func TestStalledReaderReset(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the sockets from /proc/net/tcp")
	}
	metrics := observe.NewMetrics()
	ended := make(chan error, 1)
	srv := NewServer(Config{Address: "127.0.0.1", Metrics: metrics}, bigHandler(ended))
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer srv.Close()
	c, err := net.Dial("tcp4", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4096)
	io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	if err := <-ended; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the handler's writes ended with %v, want the deadline", err)
	}
	if n := writeTimeouts(metrics, "HTTP/1.1"); n != 1 {
		t.Errorf("write timeouts counted: %v, want 1", n)
	}
	server, client := srv.Port(), c.LocalAddr().(*net.TCPAddr).Port
	if state, ok := tcpSocket(t, server, client); ok {
		t.Errorf("the server's socket is still there (state %s): it lingers with the unsent bytes", state)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the client read %d bytes and then %v, want ECONNRESET", n, err)
	}
}

// tcpSocket reports the state (hex, as /proc/net/tcp has it) of the IPv4
// TCP socket from local port local to remote port remote, if there is one.
func tcpSocket(t *testing.T, local, remote int) (string, bool) {
	t.Helper()
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", local)
	wantRemote := fmt.Sprintf(":%04X", remote)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 3 && strings.HasSuffix(fields[1], want) && strings.HasSuffix(fields[2], wantRemote) {
			return fields[3], true
		}
	}
	return "", false
}

// TestStalledStreamCounted: over HTTP/2 and HTTP/3 a response whose client
// stops reading fails at the stream's write deadline and is counted under
// its protocol; the connection stays for other requests.
func TestStalledStreamCounted(t *testing.T) {
	for _, proto := range []string{"HTTP/2.0", "HTTP/3.0"} {
		t.Run(proto, func(t *testing.T) {
			ca := testCA(t)
			metrics := observe.NewMetrics()
			ended := make(chan error, 1)
			big := bigHandler(ended)
			srv := serveTLS(t, ca, Config{HTTP3: &HTTP3Config{}, Metrics: metrics},
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/big" {
						big.ServeHTTP(w, r)
						return
					}
					protoHandler(w, r)
				}))
			base := "https://127.0.0.1:" + strconv.Itoa(srv.Port())
			client := tcpClient(t, ca, false)
			if proto == "HTTP/3.0" {
				client = h3Client(t, ca)
			}
			resp, err := client.Get(base + "/big") // its body never read
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if err := <-ended; !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the handler's writes ended with %v, want the deadline", err)
			}
			if n := writeTimeouts(metrics, proto); n != 1 {
				t.Errorf("write timeouts counted under %s: %v, want 1", proto, n)
			}
			if _, body, err := get(t, client, base+"/next"); err != nil || body != proto+" /next" {
				t.Errorf("the next request: %q %v", body, err)
			}
		})
	}
}
