package main

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/wasmserve/wasmserve/internal/devcert"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

// h3Get is a GET over HTTP/3 (quic-go's client) trusting the committed CA.
func h3Get(t *testing.T, c *http.Client, url string) (*http.Response, string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// newH3Client is quic-go's HTTP/3 client trusting the committed CA.
func newH3Client(t *testing.T) *http.Client {
	tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: rootPool(t), ServerName: "localhost"}}
	t.Cleanup(func() { tr.Close() })
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// TestHTTP3Command: with --http3 a quic-go client gets the Go echo guest's
// answer 20 times in a row over HTTP/3, the guest seeing HTTP/3.0; HTTP/2
// answers carry Alt-Svc for the same port; the access log says HTTP/3.0;
// SIGTERM lets a request in flight over HTTP/3 finish, stops the QUIC
// listener and exits 0.
func TestHTTP3Command(t *testing.T) {
	tlsArgs := []string{"--tls-cert", certSet.Cert, "--tls-key", certSet.Key, "--http3"}
	cmd, base, stderr := startServer(t, append(tlsArgs, testguest.Build(t, "echo"))...)
	base = strings.Replace(base, "http://", "https://", 1)
	port := base[strings.LastIndexByte(base, ':')+1:]
	h3 := newH3Client(t)
	for i := range 20 {
		resp, body, err := h3Get(t, h3, base+"/n"+strconv.Itoa(i))
		if err != nil {
			t.Fatalf("request %d over HTTP/3: %v\n%s", i, err, stderr)
		}
		var echo struct {
			URI   string `json:"uri"`
			Proto string `json:"proto"`
		}
		if err := json.Unmarshal([]byte(body), &echo); err != nil || resp.StatusCode != 200 || resp.Proto != "HTTP/3.0" {
			t.Fatalf("request %d: %s %s %q (%v)", i, resp.Proto, resp.Status, body, err)
		}
		if echo.Proto != "HTTP/3.0" || echo.URI != "/n"+strconv.Itoa(i) {
			t.Errorf("request %d: the guest saw %+v, want HTTP/3.0 /n%d", i, echo, i)
		}
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: rootPool(t), ServerName: "localhost"}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(base + "/h2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := `h3=":` + port + `"; ma=86400`; resp.Proto != "HTTP/2.0" || resp.Header.Get("Alt-Svc") != want {
		t.Errorf("HTTP/2 answer: %s Alt-Svc %q, want %q", resp.Proto, resp.Header.Get("Alt-Svc"), want)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, cmd, stderr); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, stderr)
	}
	// The access log is flushed by then.
	if log := stderr.String(); strings.Count(log, "HTTP/3.0") < 20 || !strings.Contains(log, "HTTP/3 on UDP 127.0.0.1:"+port) {
		t.Errorf("the log lacks the HTTP/3 access lines or the UDP address:\n%s", log)
	}
	h3.Transport.(*http3.Transport).Close()
	if _, _, err := h3Get(t, newH3Client(t), base+"/after"); err == nil {
		t.Error("HTTP/3 answered after the server stopped")
	}
}

// TestHTTP3DrainOnSIGTERM: /debug/connections lists a QUIC connection
// with a request in flight as an active h3 one; that request (a guest
// sleeping until the 2 s handler timeout) gets its answer after SIGTERM,
// then the server exits 0.
func TestHTTP3DrainOnSIGTERM(t *testing.T) {
	cmd, base, stderr := startServer(t, "--tls-cert", certSet.Cert, "--tls-key", certSet.Key, "--http3",
		"--admin", "127.0.0.1:0", "--handler-timeout", "2s", testguest.Path("host/testdata/hostile.wasm"))
	admin := adminURL(t, stderr)
	base = strings.Replace(base, "http://", "https://", 1)
	h3 := newH3Client(t)
	if _, _, err := h3Get(t, h3, base+"/other"); err != nil {
		t.Fatalf("a first request: %v\n%s", err, stderr)
	}
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, _, err := h3Get(t, h3, base+"/sleep")
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{code: resp.StatusCode}
	}()
	testguest.WaitFor(t, "the request in flight on an h3 connection", func() bool {
		_, body := get(t, admin+"/debug/connections")
		var report struct {
			Open []struct{ State, Protocol string }
		}
		json.Unmarshal([]byte(body), &report)
		for _, c := range report.Open {
			if c.State == "active" && c.Protocol == "h3 TLS 1.3" {
				return true
			}
		}
		return false
	})
	cmd.Process.Signal(syscall.SIGTERM)
	r := <-done
	if r.err != nil || r.code != http.StatusGatewayTimeout {
		t.Errorf("the request in flight: %d %v, want the guest's 504 after the drain\n%s", r.code, r.err, stderr)
	}
	if code := waitExit(t, cmd, stderr); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, stderr)
	}
}

// TestSIGHUPReloadsClientCA: with --client-cert require and --http3, SIGHUP
// re-reads --client-ca: a certificate of the new CA is accepted over TCP
// and QUIC, one of the old CA refused over both.
func TestSIGHUPReloadsClientCA(t *testing.T) {
	dir := t.TempDir()
	issue := func(name string) (*devcert.Authority, tls.Certificate) {
		ca, err := devcert.NewAuthority(name, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		cert, key, err := ca.Issue(devcert.Leaf{CommonName: name + " client", Client: true})
		if err != nil {
			t.Fatal(err)
		}
		return ca, tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
	}
	oldCA, oldCert := issue("old")
	newCA, newCert := issue("new")
	caFile := filepath.Join(dir, "clients.pem")
	os.WriteFile(caFile, devcert.CertPEM(oldCA.Cert), 0o644)
	cmd, base, stderr := startServer(t, "--tls-cert", certSet.Cert, "--tls-key", certSet.Key, "--http3",
		"--client-cert", "require", "--client-ca", caFile, testguest.Path("guest-examples/hello-wat/hello.wasm"))
	base = strings.Replace(base, "http://", "https://", 1)
	accepted := func(cert tls.Certificate) (tcp, quic bool) {
		tc := &tls.Config{RootCAs: rootPool(t), ServerName: "localhost", Certificates: []tls.Certificate{cert}}
		h2 := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true, DisableKeepAlives: true}
		h3 := &http3.Transport{TLSClientConfig: tc.Clone()}
		defer h3.Close()
		for i, rt := range []http.RoundTripper{h2, h3} {
			resp, _, err := h3Get(t, &http.Client{Transport: rt, Timeout: 10 * time.Second}, base+"/ca")
			ok := err == nil && resp.StatusCode == 200
			if i == 0 {
				tcp = ok
			} else {
				quic = ok
			}
		}
		return tcp, quic
	}
	if tcp, quic := accepted(oldCert); !tcp || !quic {
		t.Fatalf("before SIGHUP the old CA's certificate: TCP %v, QUIC %v, want both accepted\n%s", tcp, quic, stderr)
	}
	os.WriteFile(caFile, devcert.CertPEM(newCA.Cert), 0o644)
	before := strings.Count(stderr.String(), `SIGHUP: reloaded what="TLS certificate"`)
	cmd.Process.Signal(syscall.SIGHUP)
	testguest.WaitFor(t, "the reload logged", func() bool {
		return strings.Count(stderr.String(), `SIGHUP: reloaded what="TLS certificate"`) > before
	})
	if tcp, quic := accepted(newCert); !tcp || !quic {
		t.Errorf("after SIGHUP the new CA's certificate: TCP %v, QUIC %v, want both accepted", tcp, quic)
	}
	if tcp, quic := accepted(oldCert); tcp || quic {
		t.Errorf("after SIGHUP the old CA's certificate: TCP %v, QUIC %v, want both refused", tcp, quic)
	}
}

// TestHTTP3Manifest: a manifest's server takes --http3 as a module's does:
// it logs its UDP address and an app answers over HTTP/3.
func TestHTTP3Manifest(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "wasmserve.toml")
	doc := "[[app]]\nname = \"hello\"\nmodule = " + strconv.Quote(testguest.Path("guest-examples/hello-wat/hello.wasm")) +
		"\nroutes = [\"/...\"]\n"
	if err := os.WriteFile(manifest, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	_, base, stderr := startServer(t, "--tls-cert", certSet.Cert, "--tls-key", certSet.Key, "--http3", manifest)
	base = strings.Replace(base, "http://", "https://", 1)
	port := base[strings.LastIndexByte(base, ':')+1:]
	resp, body, err := h3Get(t, newH3Client(t), base+"/x")
	if err != nil || resp.StatusCode != 200 || resp.Proto != "HTTP/3.0" || body != "Hello from wasmserve: /x\n" {
		t.Fatalf("over HTTP/3: %v %v %q\n%s", resp, err, body, stderr)
	}
	if !strings.Contains(stderr.String(), "HTTP/3 on UDP 127.0.0.1:"+port) {
		t.Errorf("the log lacks the UDP address:\n%s", stderr)
	}
}
