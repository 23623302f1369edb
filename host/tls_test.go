package host

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/server"
	"github.com/wasmserve/wasmserve/internal/devcert"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// committed is the test certificate set in certs/.
var committed = devcert.Files(testguest.Path("certs"))

// serveCfg serves wasm with cfg (Address defaulting to 127.0.0.1) and
// returns the listening server; the server's log goes to the returned buffer.
func serveCfg(t *testing.T, cfg server.Config, wasm []byte) (*server.Server, *testguest.SyncBuffer) {
	t.Helper()
	srv, logs, err := tryServe(t, cfg, wasm)
	if err != nil {
		t.Fatal(err)
	}
	return srv, logs
}

// tryServe is serveCfg returning the Listen error.
func tryServe(t *testing.T, cfg server.Config, wasm []byte) (*server.Server, *testguest.SyncBuffer, error) {
	t.Helper()
	if wasm == nil {
		wasm = readFile(t, "guest-examples/hello-wat/hello.wasm")
	}
	logs := new(testguest.SyncBuffer)
	logger := slog.New(slog.NewTextHandler(logs, nil))
	h, err := NewHandler(context.Background(), wasm, HandlerConfig{Isolates: 2, CacheDir: testguest.CacheDir(t), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1"
	}
	cfg.Logger = logger
	srv := server.NewServer(cfg, h)
	if err := srv.Listen(context.Background()); err != nil {
		h.Close(context.Background())
		return nil, logs, err
	}
	go srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		h.Close(ctx)
	})
	return srv, logs, nil
}

func caPool(t *testing.T) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(readAll(t, committed.CA)) {
		t.Fatal("certs/ca.pem holds no certificate")
	}
	return pool
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func committedTLS() *server.TLSConfig {
	return &server.TLSConfig{CertFile: committed.Cert, KeyFile: committed.Key}
}

// httpsClient trusts the committed CA and speaks the protocols of tc.
func httpsClient(t *testing.T, tc *tls.Config, h2 bool) *http.Client {
	t.Helper()
	if tc.RootCAs == nil {
		tc.RootCAs = caPool(t)
	}
	tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: h2}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func getBody(t *testing.T, c *http.Client, u string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestTLSVersions(t *testing.T) {
	cases := []struct {
		name      string
		min       uint16
		clientMax uint16
		want      uint16 // 0: the handshake fails
	}{
		{"1.3 by default", 0, 0, tls.VersionTLS13},
		{"1.2 client on default minimum", 0, tls.VersionTLS12, tls.VersionTLS12},
		{"1.1 client refused by default", 0, tls.VersionTLS11, 0},
		{"1.2 client refused by minimum 1.3", tls.VersionTLS13, tls.VersionTLS12, 0},
		{"1.3 client on minimum 1.3", tls.VersionTLS13, 0, tls.VersionTLS13},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := committedTLS()
			tc.MinVersion = c.min
			srv, _ := serveCfg(t, server.Config{TLS: tc}, nil)
			conn, err := tls.Dial("tcp", srv.Addr().String(), &tls.Config{RootCAs: caPool(t), ServerName: "localhost", MaxVersion: c.clientMax, MinVersion: tls.VersionTLS10})
			if c.want == 0 {
				if err == nil {
					conn.Close()
					t.Fatal("handshake succeeded, want a protocol version failure")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if v := conn.ConnectionState().Version; v != c.want {
				t.Errorf("version %s, want %s", tls.VersionName(v), tls.VersionName(c.want))
			}
			fmt.Fprintf(conn, "GET /v HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
			b, _ := io.ReadAll(conn)
			if !bytes.HasSuffix(b, []byte("Hello from wasmserve: /v\n")) {
				t.Errorf("answer %q", b)
			}
		})
	}
	srv, _ := serveCfg(t, server.Config{TLS: committedTLS()}, nil)
	if u := srv.URLs(); len(u) == 0 || !strings.HasPrefix(u[0], "https://127.0.0.1:") {
		t.Errorf("URLs %v, want https://", u)
	}
}

func testCA(t *testing.T) *devcert.Authority {
	t.Helper()
	ca, err := devcert.NewAuthority("test CA", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// writeLeaf issues a server certificate from ca into dir and returns the
// cert and key files.
func writeLeaf(t *testing.T, ca *devcert.Authority, dir, name string, l devcert.Leaf) (string, string) {
	t.Helper()
	if l.Hosts == nil {
		l.Hosts = []string{"localhost", "127.0.0.1"}
	}
	cert, key, err := ca.Issue(l)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := devcert.KeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	cf, kf := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(cf, devcert.CertPEM(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kf, kp, 0o600); err != nil {
		t.Fatal(err)
	}
	return cf, kf
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	ca := testCA(t)
	certA, _ := writeLeaf(t, ca, dir, "a", devcert.Leaf{CommonName: "a"})
	_, keyB := writeLeaf(t, ca, dir, "b", devcert.Leaf{CommonName: "b"})
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644)
	cases := []struct {
		name string
		tls  server.TLSConfig
		h2c  bool
		want string
	}{
		{"missing cert file", server.TLSConfig{CertFile: filepath.Join(dir, "nope.pem"), KeyFile: committed.Key}, false, "TLSConfig.CertFile " + filepath.Join(dir, "nope.pem") + ": no such file"},
		{"missing key file", server.TLSConfig{CertFile: committed.Cert, KeyFile: filepath.Join(dir, "nope.pem")}, false, "TLSConfig.KeyFile " + filepath.Join(dir, "nope.pem") + ": no such file"},
		{"cert file without a certificate", server.TLSConfig{CertFile: notPEM, KeyFile: committed.Key}, false, "holds no PEM \"CERTIFICATE\" block"},
		{"key that does not match", server.TLSConfig{CertFile: certA, KeyFile: keyB}, false, "does not match certificate " + certA},
		{"no key", server.TLSConfig{CertFile: committed.Cert}, false, "TLS needs both TLSConfig.CertFile and TLSConfig.KeyFile"},
		{"require without CA", server.TLSConfig{CertFile: committed.Cert, KeyFile: committed.Key, ClientCert: server.ClientCertRequire}, false, "need TLSConfig.ClientCAFile"},
		{"CA without mode", server.TLSConfig{CertFile: committed.Cert, KeyFile: committed.Key, ClientCAFile: committed.CA}, false, "TLSConfig.ClientCert is none"},
		{"CA file missing", server.TLSConfig{CertFile: committed.Cert, KeyFile: committed.Key, ClientCert: server.ClientCertRequest, ClientCAFile: filepath.Join(dir, "ca.pem")}, false, "TLSConfig.ClientCAFile " + filepath.Join(dir, "ca.pem") + ": no such file"},
		{"CA file without certificates", server.TLSConfig{CertFile: committed.Cert, KeyFile: committed.Key, ClientCert: server.ClientCertRequest, ClientCAFile: notPEM}, false, "holds no PEM certificate"},
		{"unknown ALPN", server.TLSConfig{CertFile: committed.Cert, KeyFile: committed.Key, ALPN: []string{"spdy/3"}}, false, `ALPN protocol "spdy/3" is not served`},
		{"h2c with TLS", server.TLSConfig{CertFile: committed.Cert, KeyFile: committed.Key}, true, "Config.H2C is cleartext HTTP/2 and cannot be combined with TLS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := c.tls
			_, _, err := tryServe(t, server.Config{TLS: &tc, H2C: c.h2c}, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

// TestExpiredCertificateWarns: an expired certificate is served with a
// warning in the log, so an operator can still start and fix it.
func TestExpiredCertificateWarns(t *testing.T) {
	ca := testCA(t)
	cf, kf := writeLeaf(t, ca, t.TempDir(), "old", devcert.Leaf{CommonName: "old",
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	srv, logs := serveCfg(t, server.Config{TLS: &server.TLSConfig{CertFile: cf, KeyFile: kf}}, nil)
	if !strings.Contains(logs.String(), "TLS certificate has expired") {
		t.Errorf("log lacks the expiry warning:\n%s", logs)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	_, err := tls.Dial("tcp", srv.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("client error %v, want it to reject the expired certificate", err)
	}
}

// TestClientCertModes: each mode with and without a client certificate;
// the verified subject and PEM reach the guest, and a client cannot
// forge them.
func TestClientCertModes(t *testing.T) {
	echoWasm := testguest.Read(t, "echo")
	clientPair, err := tls.LoadX509KeyPair(committed.ClientCert, committed.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stranger := testCA(t)
	cf, kf := writeLeaf(t, stranger, dir, "stranger", devcert.Leaf{CommonName: "stranger", Client: true})
	strangerPair, err := tls.LoadX509KeyPair(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	forged := http.Header{"X-Client-Cert-Subject": {"CN=admin"}, "X-Client-Cert": {"forged"}}
	cases := []struct {
		name     string
		mode     server.ClientCertMode
		cert     *tls.Certificate
		wantOK   bool
		wantSubj string // "" = no client certificate headers
	}{
		{"none without cert", server.ClientCertNone, nil, true, ""},
		{"none with cert", server.ClientCertNone, &clientPair, true, ""},
		{"request without cert", server.ClientCertRequest, nil, true, ""},
		{"request with cert", server.ClientCertRequest, &clientPair, true, "CN=wasmserve client,O=wasmserve development"},
		{"request with untrusted cert", server.ClientCertRequest, &strangerPair, false, ""},
		{"require without cert", server.ClientCertRequire, nil, false, ""},
		{"require with cert", server.ClientCertRequire, &clientPair, true, "CN=wasmserve client,O=wasmserve development"},
		{"require with untrusted cert", server.ClientCertRequire, &strangerPair, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := committedTLS()
			tc.ClientCert = c.mode
			if c.mode != server.ClientCertNone {
				tc.ClientCAFile = committed.CA
			}
			srv, _ := serveCfg(t, server.Config{TLS: tc}, echoWasm)
			var advertised [][]byte
			asked := false
			client := httpsClient(t, &tls.Config{GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
				asked, advertised = true, cri.AcceptableCAs
				if c.cert == nil {
					return &tls.Certificate{}, nil
				}
				return c.cert, nil
			}}, true)
			req, _ := http.NewRequest("GET", "https://localhost:"+fmt.Sprint(srv.Port())+"/cert", nil)
			req.Header = forged.Clone()
			resp, err := client.Do(dialLocal(req, srv))
			if !c.wantOK {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("request succeeded with status %d, want a failed handshake", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e := decodeEcho(t, resp)
			if asked != (c.mode != server.ClientCertNone) {
				t.Errorf("server asked for a client certificate: %v, mode %d", asked, c.mode)
			}
			if asked && (len(advertised) != 1 || !bytes.Contains(advertised[0], []byte("wasmserve development CA"))) {
				t.Errorf("advertised CA names %q, want the committed CA", advertised)
			}
			subj, pemHdr := e.Headers["X-Client-Cert-Subject"], e.Headers["X-Client-Cert"]
			if c.wantSubj == "" {
				if subj != nil || pemHdr != nil {
					t.Errorf("client certificate headers without a verified certificate (forged ones not stripped?): %q %q", subj, pemHdr)
				}
				return
			}
			if len(subj) != 1 || subj[0] != c.wantSubj {
				t.Errorf("subject header %q, want %q", subj, c.wantSubj)
			}
			if len(pemHdr) != 1 {
				t.Fatalf("X-Client-Cert %q", pemHdr)
			}
			decoded, err := url.QueryUnescape(pemHdr[0])
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSpace(string(readAll(t, committed.ClientCert)))
			if strings.TrimSpace(decoded) != want {
				t.Errorf("X-Client-Cert decodes to\n%s\nwant\n%s", decoded, want)
			}
		})
	}
}

// dialLocal keeps the URL's host name "localhost" (for verification) but
// makes sure the connection goes to the server's own 127.0.0.1 port.
func dialLocal(req *http.Request, srv *server.Server) *http.Request {
	req.URL.Host = "localhost:" + fmt.Sprint(srv.Port())
	return req
}

func TestALPN(t *testing.T) {
	cases := []struct {
		name     string
		alpn     []string
		offer    []string
		want     string // negotiated protocol; "" = handshake refused
		wantHTTP int    // major version over http.Client; 0 = skip
	}{
		{"default negotiates h2", nil, []string{"h2", "http/1.1"}, "h2", 2},
		{"default serves http/1.1 clients", nil, []string{"http/1.1"}, "http/1.1", 0},
		{"http/1.1 only turns h2 off", []string{"http/1.1"}, []string{"h2", "http/1.1"}, "http/1.1", 1},
		{"http/1.1 only refuses an h2-only client", []string{"http/1.1"}, []string{"h2"}, "", 0},
		{"h2 only", []string{"h2"}, []string{"h2", "http/1.1"}, "h2", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tc := committedTLS()
			tc.ALPN = c.alpn
			srv, _ := serveCfg(t, server.Config{TLS: tc}, nil)
			conn, err := tls.Dial("tcp", srv.Addr().String(), &tls.Config{RootCAs: caPool(t), ServerName: "localhost", NextProtos: c.offer})
			if c.want == "" {
				if err == nil {
					conn.Close()
					t.Fatal("handshake succeeded, want no_application_protocol")
				}
				if !strings.Contains(err.Error(), "no application protocol") {
					t.Errorf("error %v, want no application protocol", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			conn.Close()
			if got := conn.ConnectionState().NegotiatedProtocol; got != c.want {
				t.Errorf("negotiated %q, want %q", got, c.want)
			}
			if c.wantHTTP != 0 {
				resp, body := getBody(t, httpsClient(t, &tls.Config{}, true), "https://localhost:"+fmt.Sprint(srv.Port())+"/p", nil)
				if resp.ProtoMajor != c.wantHTTP || body != "Hello from wasmserve: /p\n" {
					t.Errorf("got %s %q, want HTTP/%d", resp.Proto, body, c.wantHTTP)
				}
			}
		})
	}
}

func TestH2C(t *testing.T) {
	srv, _ := serveCfg(t, server.Config{H2C: true}, nil)
	base := "http://" + srv.Addr().String()

	t.Run("prior knowledge", func(t *testing.T) {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr := &http.Transport{Protocols: &p}
		defer tr.CloseIdleConnections()
		resp, body := getBody(t, &http.Client{Transport: tr, Timeout: 10 * time.Second}, base+"/pk", nil)
		if resp.Proto != "HTTP/2.0" || body != "Hello from wasmserve: /pk\n" {
			t.Errorf("got %s %q", resp.Proto, body)
		}
	})
	t.Run("upgrade", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		// HTTP2-Settings: an empty SETTINGS payload, base64url.
		fmt.Fprintf(conn, "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\n\r\n")
		status, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(status, "HTTP/1.1 101 ") {
			t.Errorf("status line %q, want 101 Switching Protocols", status)
		}
	})
	t.Run("HTTP/1.1 still served", func(t *testing.T) {
		if resp, body := getBody(t, http.DefaultClient, base+"/one", nil); resp.ProtoMajor != 1 || body != "Hello from wasmserve: /one\n" {
			t.Errorf("got %s %q", resp.Proto, body)
		}
	})
	t.Run("off by default", func(t *testing.T) {
		plain, _ := serveCfg(t, server.Config{}, nil)
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr := &http.Transport{Protocols: &p}
		defer tr.CloseIdleConnections()
		if resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("http://" + plain.Addr().String() + "/"); err == nil {
			resp.Body.Close()
			t.Errorf("prior-knowledge HTTP/2 answered %s without H2C", resp.Proto)
		}
	})
}

// TestReloadTLS: a new pair is used by new handshakes while an open
// connection keeps working; a bad pair keeps the old one.
func TestReloadTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testCA(t)
	cf, kf := writeLeaf(t, ca, dir, "live", devcert.Leaf{CommonName: "first"})
	srv, _ := serveCfg(t, server.Config{TLS: &server.TLSConfig{CertFile: cf, KeyFile: kf}}, nil)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	handshake := func() (*tls.Conn, string) {
		t.Helper()
		conn, err := tls.Dial("tcp", srv.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		return conn, conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	old, cn := handshake()
	defer old.Close()
	if cn != "first" {
		t.Fatalf("serving %q", cn)
	}
	r := bufio.NewReader(old)
	ask := func(path string) {
		t.Helper()
		fmt.Fprintf(old, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	ask("/before")

	// Rotate: write the second pair over the files, then reload.
	cf2, kf2 := writeLeaf(t, ca, dir, "second", devcert.Leaf{CommonName: "second"})
	os.Rename(cf2, cf)
	os.Rename(kf2, kf)
	if err := srv.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if c, cn := handshake(); cn != "second" {
		t.Errorf("after reload serving %q, want second", cn)
	} else {
		c.Close()
	}
	ask("/after") // the connection made before the reload still works

	// A bad pair: a key from a third certificate.
	_, kf3 := writeLeaf(t, ca, dir, "third", devcert.Leaf{CommonName: "third"})
	os.Rename(kf3, kf)
	err := srv.ReloadTLS()
	if err == nil || !strings.Contains(err.Error(), "does not match") || !strings.Contains(err.Error(), "still serving the previous certificate") {
		t.Errorf("bad reload error %v", err)
	}
	if c, cn := handshake(); cn != "second" {
		t.Errorf("after a bad reload serving %q, want second", cn)
	} else {
		c.Close()
	}
	if srv.Certificate().Subject.CommonName != "second" {
		t.Errorf("Certificate() = %q", srv.Certificate().Subject.CommonName)
	}
}
