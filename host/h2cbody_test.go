package host

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wasmserve/wasmserve/host/server"
)

// h2cUpgradeHead is the head of an HTTP/1.1 request asking for the h2c
// upgrade (with an empty SETTINGS payload), without the blank line.
const h2cUpgradeHead = "Host: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\n"

// TestH2CUpgradeWithBodyIsBounded: an h2c upgrade request streaming a
// 256 MiB body, declared or chunked, is served as HTTP/1.1 under the
// handler's 1 MiB body limit: 413, not 101, and the server's heap never
// holds the body. Not parallel: it measures the process's heap.
func TestH2CUpgradeWithBodyIsBounded(t *testing.T) {
	base, _, _ := startConfig(t, faultsWasm(t), HandlerConfig{Isolates: 2, MaxBody: 1 << 20}, server.Config{H2C: true})
	addr := strings.TrimPrefix(base, "http://")
	const (
		size     = 256 << 20
		heapMax  = 64 << 20
		piece    = 64 << 10
		sampleAt = 2 << 20 // bytes sent between heap samples
	)
	data := []byte(strings.Repeat("x", piece))
	chunk := append(append([]byte(fmt.Sprintf("%x\r\n", piece)), data...), "\r\n"...)
	cases := []struct {
		name    string
		framing string
		piece   []byte // written size/piece times
		end     string
	}{
		{"declared length", fmt.Sprintf("Content-Length: %d\r\n", size), data, ""},
		{"chunked", "Transfer-Encoding: chunked\r\n", chunk, "0\r\n\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(60 * time.Second))
			type answer struct {
				resp *http.Response
				err  error
			}
			answered := make(chan answer, 1)
			go func() {
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				answered <- answer{resp, err}
			}()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak := ms.HeapInuse
			t.Logf("heap in use before the upload: %d MiB", peak>>20)
			if _, err := io.WriteString(conn, "POST /upload HTTP/1.1\r\n"+h2cUpgradeHead+c.framing+"\r\n"); err != nil {
				t.Fatal(err)
			}
			var a answer
			got, sent := false, 0
		upload:
			for i := 0; i < size/piece; i++ {
				select {
				case a = <-answered:
					got = true
					break upload
				default:
				}
				if _, err := conn.Write(c.piece); err != nil {
					break // the server stopped reading: closed after its answer
				}
				if sent += piece; sent%sampleAt == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
					if peak > heapMax {
						break
					}
				}
			}
			if !got && peak <= heapMax && sent == size {
				io.WriteString(conn, c.end)
			}
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			t.Logf("sent %d MiB; peak heap in use %d MiB", sent>>20, peak>>20)
			if peak > heapMax {
				t.Errorf("heap in use reached %d MiB during the upload, want under %d MiB", peak>>20, heapMax>>20)
				conn.Close() // the answer need not be waited for
			}
			if !got {
				a = <-answered
			}
			if a.err != nil {
				t.Fatalf("no answer: %v", a.err)
			}
			a.resp.Body.Close()
			if a.resp.StatusCode != http.StatusRequestEntityTooLarge || a.resp.ProtoMajor != 1 {
				t.Errorf("answered %s %s, want HTTP/1.1 413", a.resp.Proto, a.resp.Status)
			}
		})
	}
}

// TestH2CUpgradeWithoutBody: an upgrade request without a body, or with
// an empty one, still switches to HTTP/2 and is answered there.
func TestH2CUpgradeWithoutBody(t *testing.T) {
	t.Parallel()
	base, _, _ := startConfig(t, faultsWasm(t), HandlerConfig{Isolates: 1, MaxBody: 1 << 20}, server.Config{H2C: true})
	for _, c := range []struct{ name, req string }{
		{"no body", "GET /ok HTTP/1.1\r\n" + h2cUpgradeHead + "\r\n"},
		{"empty declared body", "POST /ok HTTP/1.1\r\n" + h2cUpgradeHead + "Content-Length: 0\r\n\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := dialRaw(t, base, c.req)
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("answered %s, want 101", resp.Status)
			}
			status, body := h2Answer(t, conn, br)
			if status != "200" || body != "ok:/ok" {
				t.Errorf("HTTP/2 answer %s %q, want 200 \"ok:/ok\"", status, body)
			}
		})
	}
}

// h2Answer speaks HTTP/2 on conn after a 101 to h2c and returns the status
// and body of the answer to the upgrade request, stream 1.
func h2Answer(t *testing.T, conn net.Conn, br *bufio.Reader) (status, body string) {
	t.Helper()
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, br)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading HTTP/2 frames: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID == 1 {
				status = f.PseudoValue("status")
				if f.StreamEnded() {
					return status, sb.String()
				}
			}
		case *http2.DataFrame:
			if f.StreamID == 1 {
				sb.Write(f.Data())
				if f.StreamEnded() {
					return status, sb.String()
				}
			}
		case *http2.GoAwayFrame:
			t.Fatalf("GOAWAY %v before the answer", f.ErrCode)
		}
	}
}
