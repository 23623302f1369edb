package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"github.com/wasmserve/wasmserve/host/observe"
	"github.com/wasmserve/wasmserve/internal/devcert"
)

// tlsFiles writes a server certificate for localhost and 127.0.0.1, its
// key, and ca's certificate into a new directory.
func tlsFiles(t *testing.T, ca *devcert.Authority) (certFile, keyFile, caFile string) {
	t.Helper()
	dir := t.TempDir()
	cert, key, err := ca.Issue(devcert.Leaf{CommonName: "localhost", Hosts: []string{"localhost", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := devcert.KeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, caFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	for _, f := range []struct {
		path string
		data []byte
	}{{certFile, devcert.CertPEM(cert)}, {keyFile, kp}, {caFile, devcert.CertPEM(ca.Cert)}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile, caFile
}

// serveTLS starts a server on 127.0.0.1, port 0, with cfg (its TLS set to
// a certificate of ca) and handler; it is shut down when the test ends.
func serveTLS(t *testing.T, ca *devcert.Authority, cfg Config, handler http.Handler) *Server {
	t.Helper()
	cf, kf, _ := tlsFiles(t, ca)
	if cfg.TLS == nil {
		cfg.TLS = &TLSConfig{}
	}
	cfg.TLS.CertFile, cfg.TLS.KeyFile = cf, kf
	cfg.Address = "127.0.0.1"
	srv := NewServer(cfg, handler)
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

// h3Client is an HTTP/3 client (quic-go's) trusting ca, with the client
// certificates given.
func h3Client(t *testing.T, ca *devcert.Authority, certs ...tls.Certificate) *http.Client {
	t.Helper()
	tr := &http3.Transport{TLSClientConfig: clientTLS(ca, certs...)}
	t.Cleanup(func() { tr.Close() })
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// tcpClient is an HTTP/2 (or HTTP/1.1 with h1) client over TLS trusting ca.
func tcpClient(t *testing.T, ca *devcert.Authority, h1 bool, certs ...tls.Certificate) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: clientTLS(ca, certs...), ForceAttemptHTTP2: !h1}
	if h1 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func clientTLS(ca *devcert.Authority, certs ...tls.Certificate) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: certs}
}

// get does a GET and returns the response with its body read.
func get(t *testing.T, c *http.Client, url string) (*http.Response, string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// protoHandler answers "PROTO PATH" and the Early-Data header it got.
var protoHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, r.Proto+" "+r.URL.Path+r.Header.Get(headerEarlyData))
})

// TestHTTP3Serves: a quic-go client gets 20 answers in a row over HTTP/3,
// the handler seeing HTTP/3.0; HTTP/1.1 and HTTP/2 answers advertise the
// UDP port in Alt-Svc (HTTP/3's do not, nor one whose handler set its
// own); the access log, the metrics and the connection list name the
// protocol.
func TestHTTP3Serves(t *testing.T) {
	ca := testCA(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	metrics := observe.NewMetrics()
	srv := serveTLS(t, ca, Config{HTTP3: &HTTP3Config{}, Metrics: metrics,
		AccessLog: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/own" {
				w.Header().Set("Alt-Svc", "clear")
			}
			protoHandler(w, r)
		}))
	base := "https://127.0.0.1:" + strconv.Itoa(srv.Port())
	h3 := h3Client(t, ca)
	for i := range 20 {
		resp, body, err := get(t, h3, base+"/n"+strconv.Itoa(i))
		if err != nil {
			t.Fatalf("request %d over HTTP/3: %v", i, err)
		}
		if resp.StatusCode != 200 || resp.Proto != "HTTP/3.0" || body != "HTTP/3.0 /n"+strconv.Itoa(i) {
			t.Fatalf("request %d: %s %s %q", i, resp.Proto, resp.Status, body)
		}
		if v := resp.Header.Get("Alt-Svc"); v != "" {
			t.Errorf("an HTTP/3 answer carries Alt-Svc %q", v)
		}
	}
	infos := srv.OpenConnections()
	if len(infos) != 1 || infos[0].Protocol != "h3 TLS 1.3" || infos[0].State != "idle" {
		t.Errorf("open connections %+v, want one idle h3 TLS 1.3", infos)
	}
	want := `h3=":` + strconv.Itoa(srv.Port()) + `"; ma=86400`
	for _, c := range []struct {
		name, proto string
		client      *http.Client
	}{{"HTTP/2", "HTTP/2.0", tcpClient(t, ca, false)}, {"HTTP/1.1", "HTTP/1.1", tcpClient(t, ca, true)}} {
		resp, body, err := get(t, c.client, base+"/tcp")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Proto != c.proto || body != c.proto+" /tcp" {
			t.Errorf("%s: %s %q", c.name, resp.Proto, body)
		}
		if got := resp.Header.Values("Alt-Svc"); len(got) != 1 || got[0] != want {
			t.Errorf("%s: Alt-Svc %q, want %q", c.name, got, want)
		}
		resp, _, _ = get(t, c.client, base+"/own")
		if got := resp.Header.Values("Alt-Svc"); len(got) != 1 || got[0] != "clear" {
			t.Errorf("%s: Alt-Svc %q, want the handler's own", c.name, got)
		}
	}
	gathered, err := metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]float64{}
	for _, mf := range gathered {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			if c := m.GetCounter(); c != nil {
				found[key] = c.GetValue()
			}
		}
	}
	for key, want := range map[string]float64{
		"wasmserve_http_requests_total,code=200,method=GET,proto=HTTP/3.0": 20,
		"wasmserve_http_requests_total,code=200,method=GET,proto=HTTP/2.0": 2,
		"wasmserve_quic_connections_opened_total":                          1,
		"wasmserve_connections_opened_total":                               3,
	} {
		if found[key] != want {
			t.Errorf("%s = %v, want %v", key, found[key], want)
		}
	}
	mu.Lock()
	log := logs.String()
	mu.Unlock()
	if n := strings.Count(log, "proto=HTTP/3.0"); n != 20 {
		t.Errorf("%d access-log lines with proto=HTTP/3.0, want 20:\n%s", n, log)
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestHTTP3Refused: HTTP/3 without TLS, over a shared port, or asked for
// through the TCP protocol list is refused with a message that says why.
func TestHTTP3Refused(t *testing.T) {
	t.Parallel()
	ca := testCA(t)
	cf, kf, _ := tlsFiles(t, ca)
	// A UDP port taken by another socket, its TCP twin free.
	taken, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.LocalAddr().(*net.UDPAddr).Port
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"UDP port taken", Config{Port: port, HTTP3: &HTTP3Config{}, TLS: &TLSConfig{CertFile: cf, KeyFile: kf}},
			"UDP address 127.0.0.1:" + strconv.Itoa(port) + " for HTTP/3 is already in use: stop the other server or choose another Config.Port"},
		{"no TLS", Config{HTTP3: &HTTP3Config{}}, "Config.HTTP3 needs TLS"},
		{"shared", Config{HTTP3: &HTTP3Config{}, Shared: true, TLS: &TLSConfig{CertFile: cf, KeyFile: kf}}, "cannot be combined with Config.Shared"},
		{"h3 in ALPN", Config{TLS: &TLSConfig{CertFile: cf, KeyFile: kf, ALPN: []string{"h3", "h2"}}}, `"h3" is served over QUIC, not TCP: set Config.HTTP3`},
		{"negative streams", Config{HTTP3: &HTTP3Config{MaxStreams: -1}, TLS: &TLSConfig{CertFile: cf, KeyFile: kf}}, "HTTP3Config.MaxStreams must be 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Address = "127.0.0.1"
			srv := NewServer(c.cfg, protoHandler)
			err := srv.Listen(context.Background())
			if err == nil {
				srv.Close()
				t.Fatal("Listen accepted it")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want %q", err, c.want)
			}
		})
	}
}

// TestHTTP3Shutdown: Shutdown lets a request in flight over HTTP/3 finish,
// refuses new connections during the drain, does not wait for an idle
// connection whose client never closes it, and closes the UDP socket: its
// port can be bound again.
func TestHTTP3Shutdown(t *testing.T) {
	ca := testCA(t)
	cf, kf, _ := tlsFiles(t, ca)
	started, release := make(chan struct{}), make(chan struct{})
	srv := NewServer(Config{Address: "127.0.0.1", HTTP3: &HTTP3Config{IdleTimeout: time.Minute}, TLS: &TLSConfig{CertFile: cf, KeyFile: kf}},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				close(started)
				<-release
			}
			io.WriteString(w, "done "+r.URL.Path)
		}))
	if err := srv.Listen(context.Background()); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	base := "https://127.0.0.1:" + strconv.Itoa(srv.Port())
	h3 := h3Client(t, ca)
	type result struct {
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := h3.Get(base + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- result{string(b), err}
	}()
	<-started
	// A client that went away without closing its connection: it never
	// reads the GOAWAY, and QUIC's idle timeout is a minute.
	tc := clientTLS(ca)
	tc.NextProtos = []string{http3.NextProtoH3}
	dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gone, err := quic.DialAddr(dctx, "127.0.0.1:"+strconv.Itoa(srv.Port()), tc, &quic.Config{MaxIdleTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer gone.CloseWithError(0, "")
	waitFor(t, "the silent connection accepted", func() bool { return srv.Connections().Total == 2 })
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	// Once the server is draining, a new connection is refused.
	waitFor(t, "the server draining", srv.Draining)
	fresh := h3Client(t, ca)
	fresh.Transport.(*http3.Transport).QUICConfig = &quic.Config{HandshakeIdleTimeout: 500 * time.Millisecond}
	if _, _, err := get(t, fresh, base+"/during"); err == nil {
		t.Error("a new connection was served during the drain")
	}
	close(release)
	if r := <-slow; r.err != nil || r.body != "done /slow" {
		t.Errorf("the request in flight: %q %v", r.body, r.err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, _, err := get(t, fresh, base+"/after"); err == nil {
		t.Error("a request after the shutdown was answered")
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(srv.Port()))
	if err != nil {
		t.Fatalf("the UDP port is still bound after Shutdown: %v", err)
	}
	pc.Close()
}

// waitFor polls cond every 10 ms, for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s after 10 s", what)
}

// TestClientCAReload: ReloadTLS re-reads the client CA file for the TCP
// and QUIC listeners alike: after it a certificate of the new CA is
// accepted and one of the old CA refused, also by a client that resumes a
// session it had before; a CA file that does not load keeps the old one.
// Every refused handshake is counted, QUIC's too.
func TestClientCAReload(t *testing.T) {
	serverCA, oldCA, newCA := testCA(t), testCA(t), testCA(t)
	clientCert := func(ca *devcert.Authority) tls.Certificate {
		cert, key, err := ca.Issue(devcert.Leaf{CommonName: "client", Client: true})
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	}
	oldCert, newCert := clientCert(oldCA), clientCert(newCA)
	caFile := filepath.Join(t.TempDir(), "clients.pem")
	os.WriteFile(caFile, devcert.CertPEM(oldCA.Cert), 0o600)
	metrics := observe.NewMetrics()
	srv := serveTLS(t, serverCA, Config{HTTP3: &HTTP3Config{}, Metrics: metrics,
		TLS: &TLSConfig{ClientCert: ClientCertRequire, ClientCAFile: caFile}},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.Proto+" "+r.Header.Get(HeaderClientCertSubject))
		}))
	base := "https://127.0.0.1:" + strconv.Itoa(srv.Port()) + "/"
	// A client that keeps its TLS sessions, to resume one after the reload.
	resumer := tcpClient(t, serverCA, true, oldCert)
	resumer.Transport.(*http.Transport).TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	resumer.Transport.(*http.Transport).DisableKeepAlives = true
	type client struct {
		name  string
		proto string
		make  func(...tls.Certificate) *http.Client
	}
	clients := []client{
		{"TCP", "HTTP/2.0", func(c ...tls.Certificate) *http.Client { return tcpClient(t, serverCA, false, c...) }},
		{"QUIC", "HTTP/3.0", func(c ...tls.Certificate) *http.Client { return h3Client(t, serverCA, c...) }},
	}
	expect := func(when string, cert tls.Certificate, accepted bool) {
		t.Helper()
		for _, c := range clients {
			resp, body, err := get(t, c.make(cert), base)
			switch {
			case accepted && (err != nil || resp.StatusCode != 200 || body != c.proto+" CN=client,O=wasmserve development"):
				t.Errorf("%s, %s, certificate of %s: %v %q, want it accepted", when, c.name, cert.Leaf.Issuer.CommonName, err, body)
			case !accepted && err == nil:
				t.Errorf("%s, %s, certificate of %s: accepted (%q), want the handshake refused", when, c.name, cert.Leaf.Issuer.CommonName, body)
			}
		}
	}
	expect("before the reload", oldCert, true)
	expect("before the reload", newCert, false)
	if _, _, err := get(t, resumer, base); err != nil {
		t.Fatal(err)
	}
	if resp, _, err := get(t, resumer, base); err != nil || !resp.TLS.DidResume {
		t.Fatalf("a second connection before the reload: %v, want a resumed session", err)
	}

	os.WriteFile(caFile, []byte("not PEM"), 0o600)
	if err := srv.ReloadTLS(); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate; still serving the previous certificate") {
		t.Errorf("reload of a bad CA file: %v", err)
	}
	expect("after a failed reload", oldCert, true)

	os.WriteFile(caFile, devcert.CertPEM(newCA.Cert), 0o600)
	if err := srv.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	expect("after the reload", newCert, true)
	expect("after the reload", oldCert, false)
	if _, body, err := get(t, resumer, base); err == nil {
		t.Errorf("a session of the old CA's certificate was resumed after the reload: %q", body)
	}
	// A refused QUIC handshake is counted, though the listener had handed
	// its connection over before the client's certificate came.
	failures := func() float64 {
		mfs, _ := metrics.Registry().Gather()
		for _, mf := range mfs {
			if mf.GetName() == "wasmserve_tls_handshake_failures_total" {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return 0
	}
	before := failures()
	if _, _, err := get(t, h3Client(t, serverCA, oldCert), base); err == nil {
		t.Fatal("the old CA's certificate was accepted over QUIC")
	}
	waitFor(t, "the refused QUIC handshake counted", func() bool { return failures() > before })
}

// TestHTTP3ZeroRTT: a client resuming a session gets 0-RTT only with
// Allow0RTT. Its client's datagrams after the server's first answer are held
// back a second, so the requests it sends in its first flight reach the
// server before the handshake completes: a GET reaches the handler marked
// Early-Data: 1, a POST is answered 425 without reaching it. Without
// Allow0RTT both wait for the handshake and are served as usual.
func TestHTTP3ZeroRTT(t *testing.T) {
	for _, allow := range []bool{true, false} {
		t.Run("allow="+strconv.FormatBool(allow), func(t *testing.T) {
			ca := testCA(t)
			var posts atomic.Int64
			srv := serveTLS(t, ca, Config{HTTP3: &HTTP3Config{Allow0RTT: allow}},
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == "POST" {
						posts.Add(1)
					}
					protoHandler(w, r)
				}))
			addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: srv.Port()}
			tc := clientTLS(ca)
			tc.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			tc.NextProtos = []string{http3.NextProtoH3}
			h3 := &http3.Transport{}
			// send sends a request on a new connection right after the
			// dial, in 0-RTT when the session allows it.
			send := func(method, path string, slow bool) (*quic.Conn, int, string) {
				t.Helper()
				udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					t.Fatal(err)
				}
				tr := &quic.Transport{Conn: &slowReplies{PacketConn: udp, udp: udp, slow: slow}}
				defer tr.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				conn, err := tr.DialEarly(ctx, addr, tc, &quic.Config{})
				if err != nil {
					t.Fatal(err)
				}
				defer conn.CloseWithError(0, "")
				rs, err := h3.NewClientConn(conn).OpenRequestStream(ctx)
				if err != nil {
					t.Fatal(err)
				}
				req, _ := http.NewRequest(method, "https://localhost:"+strconv.Itoa(srv.Port())+path, nil)
				if method == "POST" {
					req.ContentLength = 1
				}
				if err := rs.SendRequestHeader(req); err != nil {
					t.Fatal(err)
				}
				if method == "POST" {
					rs.Write([]byte("x"))
				}
				rs.Close()
				resp, err := rs.ReadResponse()
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				return conn, resp.StatusCode, string(b)
			}
			send("GET", "/first", false) // for the session ticket
			conn, code, body := send("GET", "/early", true)
			if used := conn.ConnectionState().Used0RTT; used != allow {
				t.Errorf("0-RTT used: %v, want %v", used, allow)
			}
			want := "HTTP/3.0 /early"
			if allow {
				want += "1" // Early-Data: 1
			}
			if code != 200 || body != want {
				t.Errorf("GET: %d %q, want 200 %q", code, body, want)
			}
			// The POST's dial resumes with the ticket of the last
			// connection; on a loaded machine that ticket may not have
			// arrived before the connection closed, and the dial goes
			// without 0-RTT: refresh the ticket and try again, a few
			// times, but it must go in 0-RTT at least once.
			var postConn *quic.Conn
			for range 3 {
				postConn, code, body = send("POST", "/early", true)
				if !allow || postConn.ConnectionState().Used0RTT {
					break
				}
				send("GET", "/ticket", false)
			}
			if allow && !postConn.ConnectionState().Used0RTT {
				t.Fatalf("the POST never went in 0-RTT in 3 tries (the last: %d %q)", code, body)
			}
			switch {
			case allow && (code != http.StatusTooEarly || posts.Load() != 0):
				t.Errorf("POST in early data: %d %q (handler ran %d times), want 425 before the handler", code, body, posts.Load())
			case !allow && (code != 200 || body != "HTTP/3.0 /early"):
				t.Errorf("POST without 0-RTT: %d %q, want 200", code, body)
			}
		})
	}
}

// slowReplies is a client's UDP socket that holds the first datagram it
// sends after it first received one back (when slow) by a second, and the
// ones after it behind: the client's handshake completes that much later at
// the server (long enough for a loaded machine under the race detector),
// while what it sent in its first flight (0-RTT) is already there.
type slowReplies struct {
	net.PacketConn // not *net.UDPConn: quic-go would use its ReadMsgUDP and WriteMsgUDP instead
	udp            *net.UDPConn
	slow           bool
	received       atomic.Bool
	held           atomic.Bool
}

func (c *slowReplies) ReadFrom(p []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(p)
	if err == nil {
		c.received.Store(true)
	}
	return n, a, err
}

func (c *slowReplies) WriteTo(p []byte, a net.Addr) (int, error) {
	if c.slow && c.received.Load() && c.held.CompareAndSwap(false, true) {
		time.Sleep(time.Second)
	}
	return c.PacketConn.WriteTo(p, a)
}

func (c *slowReplies) SetReadBuffer(n int) error  { return c.udp.SetReadBuffer(n) }
func (c *slowReplies) SetWriteBuffer(n int) error { return c.udp.SetWriteBuffer(n) }
