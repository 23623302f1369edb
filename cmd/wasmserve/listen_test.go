package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/internal/devcert"
	"github.com/wasmserve/wasmserve/internal/testguest"
)

var certSet = devcert.Files(testguest.Path("certs"))

// startCmd starts cmd, whose arguments include --port-file pf, and returns
// the port once the file appears.
func startCmd(t *testing.T, cmd *exec.Cmd, pf string) (int, *testguest.SyncBuffer) {
	t.Helper()
	stderr := new(testguest.SyncBuffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 3000; i++ { // at most 60 s
		if b, err := os.ReadFile(pf); err == nil && len(b) > 0 {
			port, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatalf("port file holds %q", b)
			}
			return port, stderr
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no port file after 60s; stderr:\n%s", stderr)
	return 0, nil
}

func serveArgs(t *testing.T, pf string, args ...string) []string {
	return append([]string{"serve", "--port-file", pf, "--cache-dir", testguest.CacheDir(t), "--no-banner"}, args...)
}

// TestSharedProcesses: two processes with --shared on one port both get
// connections; a third without --shared is told the address is in use.
func TestSharedProcesses(t *testing.T) {
	dir := t.TempDir()
	pfA, pfB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	portA, _ := startCmd(t, exec.Command(binary, serveArgs(t, pfA, "--address", "127.0.0.1", "--port", "0", "--shared",
		testguest.Path("guest-examples/hello-wat/hello.wasm"))...), pfA)
	p := strconv.Itoa(portA)
	startCmd(t, exec.Command(binary, serveArgs(t, pfB, "--address", "127.0.0.1", "--port", p, "--shared",
		testguest.Build(t, "echo"))...), pfB)

	// The kernel hashes each new connection to one of the two sockets;
	// 200 fresh connections all landing on one is a 2^-199 chance.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var hello, echo int
	for i := 0; i < 200 && (hello == 0 || echo == 0); i++ {
		resp, err := c.Get("http://127.0.0.1:" + p + "/who")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case strings.HasPrefix(string(b), "Hello from wasmserve"):
			hello++
		case strings.HasPrefix(string(b), "{"):
			echo++
		default:
			t.Fatalf("answer %q", b)
		}
	}
	if hello == 0 || echo == 0 {
		t.Fatalf("connections went to one process only: hello %d, echo %d", hello, echo)
	}

	cmd := exec.Command(binary, "serve", "--address", "127.0.0.1", "--port", p, "--no-cache", testguest.Path("guest-examples/hello-wat/hello.wasm"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("a third, unshared process started")
	}
	want := "wasmserve: address 127.0.0.1:" + p + " is already in use: stop the other server, choose another --port, or share the port with --shared"
	if !strings.Contains(string(out), want) {
		t.Errorf("stderr:\n%s\nwant %q", out, want)
	}
}

// TestInheritedSocket: --listen-fd and systemd's LISTEN_FDS serve a socket
// the parent bound.
func TestInheritedSocket(t *testing.T) {
	hello := testguest.Path("guest-examples/hello-wat/hello.wasm")
	for _, c := range []struct {
		name string
		cmd  func(pf string) *exec.Cmd
	}{
		{"--listen-fd", func(pf string) *exec.Cmd {
			return exec.Command(binary, serveArgs(t, pf, "--listen-fd", "3", hello)...)
		}},
		{"systemd LISTEN_FDS", func(pf string) *exec.Cmd {
			// LISTEN_PID must be the server's pid: exec keeps the shell's.
			script := `LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"`
			return exec.Command("/bin/sh", append([]string{"-c", script, "sh", binary}, serveArgs(t, pf, hello)...)...)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			f, err := ln.(*net.TCPListener).File()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			pf := filepath.Join(t.TempDir(), "port")
			cmd := c.cmd(pf)
			cmd.ExtraFiles = []*os.File{f} // fd 3 in the child
			port, stderr := startCmd(t, cmd, pf)
			if port != ln.Addr().(*net.TCPAddr).Port {
				t.Errorf("port file %d, want the inherited %s", port, ln.Addr())
			}
			ln.Close() // only the child's copy remains
			f.Close()
			code, body := get(t, "http://"+ln.Addr().String()+"/inherited")
			if code != 200 || body != "Hello from wasmserve: /inherited\n" {
				t.Errorf("got %d %q", code, body)
			}
			if !strings.Contains(stderr.String(), "listening on http://"+ln.Addr().String()+"/") {
				t.Errorf("URL line missing:\n%s", stderr)
			}
		})
	}
}

// TestTLSWithCurl: curl, a client other than Go's, gets HTTP/2 over TLS
// and passes mutual TLS with the committed certificates.
func TestTLSWithCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	hello := testguest.Path("guest-examples/hello-wat/hello.wasm")
	curl := func(port int, args ...string) (string, error) {
		out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "10", "--cacert", certSet.CA,
			"-w", " %{http_version}", "https://localhost:" + strconv.Itoa(port) + "/c"}, args...)...).CombinedOutput()
		return string(out), err
	}
	for _, c := range []struct {
		name      string
		serve     []string
		curl      []string
		want      string // "" = curl fails
		wantInLog string
	}{
		{"h2", nil, []string{"--http2"}, "Hello from wasmserve: /c\n 2", ""},
		{"alpn http/1.1", []string{"--alpn", "http/1.1"}, []string{"--http2"}, "Hello from wasmserve: /c\n 1.1", ""},
		{"tls 1.2", nil, []string{"--tls-max", "1.2"}, "Hello from wasmserve: /c\n 2", ""},
		{"mTLS with cert", []string{"--client-cert", "require", "--client-ca", certSet.CA},
			[]string{"--cert", certSet.ClientCert, "--key", certSet.ClientKey}, "Hello from wasmserve: /c\n 2", ""},
		{"mTLS without cert", []string{"--client-cert", "require", "--client-ca", certSet.CA}, nil, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			pf := filepath.Join(t.TempDir(), "port")
			args := append([]string{"--address", "127.0.0.1", "--port", "0", "--tls-cert", certSet.Cert, "--tls-key", certSet.Key}, c.serve...)
			port, stderr := startCmd(t, exec.Command(binary, serveArgs(t, pf, append(args, hello)...)...), pf)
			out, err := curl(port, c.curl...)
			if c.want == "" {
				if err == nil {
					t.Errorf("curl succeeded: %s", out)
				}
				return
			}
			if err != nil || out != c.want {
				t.Errorf("curl: %v %q, want %q", err, out, c.want)
			}
			if !strings.Contains(stderr.String(), "listening on https://127.0.0.1:"+strconv.Itoa(port)+"/") {
				t.Errorf("URL line lacks https:\n%s", stderr)
			}
		})
	}
}

// TestSIGHUPRotatesCertificate: SIGHUP makes new handshakes use the new
// pair, an open connection survives, and a bad pair keeps the old one.
func TestSIGHUPRotatesCertificate(t *testing.T) {
	dir := t.TempDir()
	ca, err := devcert.NewAuthority("rotation CA", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	install := func(cn string, keyOnly bool) {
		t.Helper()
		cert, key, err := ca.Issue(devcert.Leaf{CommonName: cn, Hosts: []string{"localhost"}})
		if err != nil {
			t.Fatal(err)
		}
		kp, _ := devcert.KeyPEM(key)
		if !keyOnly {
			os.WriteFile(cf, devcert.CertPEM(cert), 0o644)
		}
		os.WriteFile(kf, kp, 0o600)
	}
	install("first", false)
	pf := filepath.Join(dir, "port")
	cmd := exec.Command(binary, serveArgs(t, pf, "--address", "127.0.0.1", "--port", "0", "--tls-cert", cf, "--tls-key", kf,
		"--alpn", "http/1.1", testguest.Path("guest-examples/hello-wat/hello.wasm"))...)
	port, stderr := startCmd(t, cmd, pf)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	served := func() string {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	// waitFor sends SIGHUP once and polls, at most 10 s, for the log line.
	waitFor := func(logLine string) {
		t.Helper()
		before := strings.Count(stderr.String(), logLine)
		cmd.Process.Signal(syscall.SIGHUP)
		for i := 0; i < 500; i++ {
			if strings.Count(stderr.String(), logLine) > before {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no %q after SIGHUP:\n%s", logLine, stderr)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	keepAlive := func(path string) {
		t.Helper()
		resp, err := client.Get("https://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.TLS.PeerCertificates[0].Subject.CommonName != "first" {
			t.Errorf("the kept-alive connection now shows %q", resp.TLS.PeerCertificates[0].Subject.CommonName)
		}
	}
	keepAlive("/before")
	if got := served(); got != "first" {
		t.Fatalf("serving %q", got)
	}

	install("second", false)
	waitFor(`SIGHUP: reloaded what="TLS certificate"`)
	if got := served(); got != "second" {
		t.Errorf("after SIGHUP serving %q, want second", got)
	}
	keepAlive("/after") // same connection, still up, still the first certificate

	install("third", true) // a key without its certificate
	waitFor("SIGHUP: reload failed")
	if got := served(); got != "second" {
		t.Errorf("after a bad SIGHUP serving %q, want second", got)
	}
	if log := stderr.String(); !strings.Contains(log, "does not match certificate") || !strings.Contains(log, "still serving the previous certificate") {
		t.Errorf("the failed reload does not say why:\n%s", log)
	}
}

// TestListenerBadInput: each listener and TLS mistake gets one clear line.
func TestListenerBadInput(t *testing.T) {
	hello := testguest.Path("guest-examples/hello-wat/hello.wasm")
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("wrong\n"), 0o600)
	// An encrypted key for the committed certificate, made by openssl if
	// it is here, else skipped below.
	encKey := filepath.Join(dir, "enc.pem")
	haveOpenSSL := exec.Command("openssl", "pkcs8", "-topk8", "-in", certSet.Key, "-out", encKey, "-passout", "pass:right").Run() == nil
	tlsArgs := []string{"--tls-cert", certSet.Cert, "--tls-key", certSet.Key}
	cases := []struct {
		name    string
		args    []string
		want    string
		openssl bool
	}{
		{"missing cert", []string{"--tls-cert", filepath.Join(dir, "no.pem"), "--tls-key", certSet.Key}, "--tls-cert " + filepath.Join(dir, "no.pem") + ": no such file", false},
		{"mismatched key", []string{"--tls-cert", certSet.Cert, "--tls-key", certSet.ClientKey}, "does not match certificate", false},
		{"cert without key", []string{"--tls-cert", certSet.Cert}, "TLS needs both --tls-cert and --tls-key", false},
		{"client-ca without TLS", []string{"--client-ca", certSet.CA}, "--client-ca needs --tls-cert and --tls-key", false},
		{"bad client-cert mode", append([]string{"--client-cert", "maybe"}, tlsArgs...), `--client-cert: client certificate mode "maybe" is not none, request or require`, false},
		{"bad tls version", append([]string{"--tls-min-version", "2.0"}, tlsArgs...), `--tls-min-version: TLS version "2.0" is not 1.0, 1.1, 1.2 or 1.3`, false},
		{"bad alpn", append([]string{"--alpn", "spdy/3"}, tlsArgs...), `ALPN protocol "spdy/3" is not served`, false},
		{"h2c with tls", append([]string{"--h2c"}, tlsArgs...), "--h2c is cleartext HTTP/2", false},
		{"http3 without TLS", []string{"--http3"}, "--http3 needs TLS: QUIC is always encrypted; give --tls-cert and --tls-key", false},
		{"http3 0-RTT without http3", append([]string{"--http3-0rtt"}, tlsArgs...), "--http3-0rtt needs --http3", false},
		{"http3 shared", append([]string{"--http3", "--shared"}, tlsArgs...), "--http3 cannot be combined with --shared", false},
		{"h3 in alpn", append([]string{"--alpn", "h3,h2"}, tlsArgs...), `ALPN protocol "h3" is served over QUIC, not TCP: set --http3 instead`, false},
		{"negative backlog", []string{"--backlog", "-3"}, "--backlog must be 0 (the system default) or more, got -3", false},
		{"v6only on IPv4", []string{"--v6only", "--address", "127.0.0.1"}, "v6only needs an IPv6 address", false},
		{"not local", []string{"--address", "192.0.2.1"}, "address 192.0.2.1 is not an address of this machine", false},
		{"listen-fd not a socket", []string{"--listen-fd", "2"}, "listen fd 2 is not a listening socket", false},
		{"encrypted key without password", []string{"--tls-cert", certSet.Cert, "--tls-key", encKey}, "the key is encrypted: give its password (--tls-key-password or --tls-key-password-file)", true},
		{"wrong password", []string{"--tls-cert", certSet.Cert, "--tls-key", encKey, "--tls-key-password-file", pwFile}, "key " + encKey + ": wrong password", true},
		{"both passwords", []string{"--tls-cert", certSet.Cert, "--tls-key", encKey, "--tls-key-password-file", pwFile, "--tls-key-password", "x"}, "not both", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.openssl && !haveOpenSSL {
				t.Skip("openssl is not installed")
			}
			cmd := exec.Command(binary, append(append([]string{"serve", "--no-cache", "--port", "0"}, c.args...), hello)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1; stderr:\n%s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "wasmserve: ") || !strings.Contains(last, c.want) {
				t.Errorf("stderr:\n%s\nwant one line with %q", stderr.String(), c.want)
			}
		})
	}
	if !haveOpenSSL {
		return
	}
	// The right password, from a file, serves.
	os.WriteFile(pwFile, []byte("right\n"), 0o600)
	pf := filepath.Join(dir, "port")
	port, _ := startCmd(t, exec.Command(binary, serveArgs(t, pf, "--address", "127.0.0.1", "--port", "0",
		"--tls-cert", certSet.Cert, "--tls-key", encKey, "--tls-key-password-file", pwFile, hello)...), pf)
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{RootCAs: rootPool(t), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

func rootPool(t *testing.T) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(certSet.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	return pool
}

// TestCertsCommand: `wasmserve certs` writes a working set with private
// keys 0600, prints commands that use it, and refuses to overwrite it.
func TestCertsCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	out, err := exec.Command(binary, "certs", "--out", dir, "example.test", "127.0.0.1").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	set := devcert.Files(dir)
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{set.CA, 0o644}, {set.CAKey, 0o600}, {set.Cert, 0o644}, {set.Key, 0o600}, {set.ClientCert, 0o644}, {set.ClientKey, 0o600}} {
		st, err := os.Stat(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != f.mode {
			t.Errorf("%s mode %v, want %v", f.path, st.Mode().Perm(), f.mode)
		}
	}
	for _, want := range []string{
		"wasmserve serve --port 8443 --tls-cert " + set.Cert + " --tls-key " + set.Key + " MODULE.wasm",
		"curl --cacert " + set.CA + " https://example.test:8443/",
		"--client-cert require --client-ca " + set.CA,
		"curl --cacert " + set.CA + " --cert " + set.ClientCert + " --key " + set.ClientKey + " https://example.test:8443/",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	pair, err := tls.LoadX509KeyPair(set.Cert, set.Key)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	caPEM, _ := os.ReadFile(set.CA)
	roots.AppendCertsFromPEM(caPEM)
	for _, name := range []string{"example.test", "127.0.0.1"} {
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("server certificate for %s: %v", name, err)
		}
	}
	again, err := exec.Command(binary, "certs", "--out", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(again), "already exists: choose another --out or add --force") {
		t.Errorf("second run: %v\n%s", err, again)
	}
}
