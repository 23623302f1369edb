package server

import (
	"context"
	"net"
	"net/http"
	"testing"
)

// TestLengthScan: a Content-Length line is counted once wherever the reads
// split it, in any case; look-alikes are not counted.
func TestLengthScan(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want int64
	}{
		{"one", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 1},
		{"mixed case", "POST / HTTP/1.1\r\ncOnTeNt-LeNgTh: 5\r\n\r\nhello", 1},
		{"two requests", "POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nxPOST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", 2},
		{"bare line feeds", "POST / HTTP/1.1\nContent-Length: 1\n\nx", 1},
		{"not at a line start", "GET / HTTP/1.1\r\nX-Content-Length: 5\r\n\r\n", 0},
		{"prefix only", "GET / HTTP/1.1\r\nContent-Lengthy: 5\r\nContent-Type: x\r\n\r\n", 0},
		{"carriage return for the dash", "GET / HTTP/1.1\r\ncontent\rlength: 5\r\n\r\n", 0},
		{"request line", "content-length: 5\r\n\r\n", 0},
		{"line feed inside a match", "GET / HTTP/1.1\r\nconten\ncontent-length: 5\r\n\r\n", 1},
		{"at the very end", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:", 1},
		{"a typical head", typicalHead, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for split := range len(c.in) + 1 {
				for _, step := range []int{len(c.in) + 1, 1} {
					sc := new(lengthScanConn)
					in := []byte(c.in)
					sc.scan(in[:split])
					for rest := in[split:]; len(rest) > 0; rest = rest[min(step, len(rest)):] {
						sc.scan(rest[:min(step, len(rest))])
					}
					if got := sc.lengths.Load(); got != c.want {
						t.Fatalf("split at %d, then %d bytes a read: %d lines counted, want %d", split, step, got, c.want)
					}
				}
			}
		})
	}
}

// BenchmarkLengthScan is the scan's cost for one request of about 500
// bytes read at once, and the per-request lookup of mustClose for a
// request with Content-Length.
func BenchmarkLengthScan(b *testing.B) {
	b.Run("scan", func(b *testing.B) {
		sc := new(lengthScanConn)
		head := []byte(typicalHead)
		b.SetBytes(int64(len(head)))
		for b.Loop() {
			sc.scan(head)
		}
	})
	b.Run("mustClose", func(b *testing.B) {
		sc := new(lengthScanConn)
		ctx := context.WithValue(context.Background(), http.ServerContextKey, &http.Server{})
		ctx = withLengthScan(ctx, sc)
		ctx = context.WithValue(ctx, http.LocalAddrContextKey, &net.TCPAddr{})
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ctx, cancel2 := context.WithCancel(ctx)
		defer cancel2()
		r, _ := http.NewRequestWithContext(ctx, "POST", "/", nil)
		r.Header.Set("Content-Length", "27")
		for b.Loop() {
			if mustClose(r) {
				b.Fatal("closed")
			}
		}
	})
}

// typicalHead is a request head as browsers and HTTP clients send them.
const typicalHead = "POST /api/items?page=2 HTTP/1.1\r\nHost: app.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: application/json\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Content-Type: application/json\r\nContent-Length: 27\r\nOrigin: https://app.example.com\r\n" +
	"Connection: keep-alive\r\nCookie: session=0123456789abcdef0123456789abcdef\r\n\r\n{\"name\":\"item\",\"count\":12}"
