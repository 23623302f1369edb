package host

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmserve/wasmserve/host/server"
)

// hello fetches /path from addr (host:port) and checks the hello guest's
// answer.
func hello(t *testing.T, addr, path string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "Hello from wasmserve: "+path+"\n" {
		t.Fatalf("GET %s: %d %q", addr+path, resp.StatusCode, b)
	}
}

// refused reports whether a TCP connection to addr is refused.
func refused(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		conn.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

func port(srv *server.Server) string { return strconv.Itoa(srv.Port()) }

func TestAddressFormsAndKeywords(t *testing.T) {
	cases := []struct {
		address  string
		network  string
		ip       string
		reach    []string // hosts that must answer
		refuse   []string // hosts that must refuse
		urlHosts []string // every URL host that must be listed
	}{
		{"127.0.0.1", "tcp4", "127.0.0.1", []string{"127.0.0.1"}, []string{"::1"}, []string{"127.0.0.1"}},
		{"::1", "tcp6", "::1", []string{"::1"}, []string{"127.0.0.1"}, []string{"[::1]"}},
		{"[::1]", "tcp6", "::1", []string{"::1"}, []string{"127.0.0.1"}, []string{"[::1]"}},
		{"::ffff:127.0.0.1", "tcp4", "127.0.0.1", []string{"127.0.0.1"}, nil, []string{"127.0.0.1"}},
		{"loopback", "tcp4", "127.0.0.1", []string{"127.0.0.1"}, []string{"::1"}, []string{"127.0.0.1"}},
		{"LOOPBACK6", "tcp6", "::1", []string{"::1"}, []string{"127.0.0.1"}, []string{"[::1]"}},
		{"any", "tcp", "::", []string{"127.0.0.1", "::1"}, nil, []string{"127.0.0.1", "[::1]"}},
		{"any4", "tcp4", "0.0.0.0", []string{"127.0.0.1"}, []string{"::1"}, []string{"127.0.0.1"}},
		{"any6", "tcp6", "::", []string{"::1"}, []string{"127.0.0.1"}, []string{"[::1]"}},
	}
	for _, c := range cases {
		t.Run(c.address, func(t *testing.T) {
			srv, _ := serveCfg(t, server.Config{Address: c.address}, nil)
			r := srv.Resolved()
			if r.Network != c.network || r.IP.String() != c.ip {
				t.Errorf("resolved %s %s, want %s %s", r.Network, r.IP, c.network, c.ip)
			}
			for _, h := range c.reach {
				hello(t, net.JoinHostPort(h, port(srv)), "/reach")
			}
			for _, h := range c.refuse {
				if !refused(net.JoinHostPort(h, port(srv))) {
					t.Errorf("%s accepted a connection", h)
				}
			}
			urls := strings.Join(srv.URLs(), " ")
			for _, h := range c.urlHosts {
				if want := "http://" + h + ":" + port(srv) + "/"; !strings.Contains(urls, want) {
					t.Errorf("URLs %q lack %s", urls, want)
				}
			}
		})
	}
}

func TestHostName(t *testing.T) {
	srv, _ := serveCfg(t, server.Config{Address: "localhost"}, nil)
	r := srv.Resolved()
	if r.Name != "localhost" || !r.IP.IsLoopback() || len(r.Candidates) == 0 || r.Candidates[0] != r.IP {
		t.Fatalf("resolved %+v", r)
	}
	hello(t, net.JoinHostPort(r.IP.String(), port(srv)), "/name")
	if u := srv.URLs(); len(u) < 2 || u[0] != "http://localhost:"+port(srv)+"/" {
		t.Errorf("URLs %q, want the name first", u)
	}
}

func TestAddressErrors(t *testing.T) {
	cases := []struct {
		address string
		want    string
	}{
		{"no-such-host.invalid", `address "no-such-host.invalid" does not resolve: lookup no-such-host.invalid`},
		{"192.0.2.1", "address 192.0.2.1 is not an address of this machine: bind: cannot assign requested address"},
		{"127.0.0.1:80", `address "127.0.0.1:80" is neither an IP address nor a host name (a port goes in Config.Port)`},
		{"fe80::1%eth0", "zoned IPv6 addresses are not supported"},
	}
	for _, c := range cases {
		t.Run(c.address, func(t *testing.T) {
			_, _, err := tryServe(t, server.Config{Address: c.address}, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestAddressInUseAndShared(t *testing.T) {
	first, _ := serveCfg(t, server.Config{}, nil)
	_, _, err := tryServe(t, server.Config{Port: first.Port()}, nil)
	if err == nil || !strings.Contains(err.Error(), "is already in use") || !strings.Contains(err.Error(), "Config.Shared") {
		t.Errorf("second bind: %v", err)
	}
	a, _ := serveCfg(t, server.Config{Shared: true}, nil)
	b, _ := serveCfg(t, server.Config{Shared: true, Port: a.Port()}, nil)
	if a.Port() != b.Port() {
		t.Fatalf("ports %d and %d", a.Port(), b.Port())
	}
	hello(t, b.Addr().String(), "/shared")
	if _, _, err := tryServe(t, server.Config{Port: a.Port()}, nil); err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("an unshared bind on a shared port: %v", err)
	}
}

// sendQ returns the Send-Q that `ss -ltn` shows for the listener on port,
// which for a listening socket is its backlog.
func sendQ(t *testing.T, port int) int {
	t.Helper()
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss (iproute2) is not installed")
	}
	out, err := exec.Command("ss", "-ltnH", "sport = :"+strconv.Itoa(port)).Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	// State Recv-Q Send-Q Local Peer
	f := strings.Fields(string(out))
	if len(f) < 3 {
		t.Fatalf("ss printed %q", out)
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		t.Fatalf("ss printed %q", out)
	}
	return n
}

func TestBacklog(t *testing.T) {
	somaxconn, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		t.Skip("no /proc/sys/net/core/somaxconn")
	}
	sys, _ := strconv.Atoi(strings.TrimSpace(string(somaxconn)))
	for _, c := range []struct {
		backlog, want int
	}{{7, 7}, {1, 1}, {0, sys}} {
		t.Run(fmt.Sprint(c.backlog), func(t *testing.T) {
			srv, _ := serveCfg(t, server.Config{Backlog: c.backlog}, nil)
			if got := sendQ(t, srv.Port()); got != c.want {
				t.Errorf("Send-Q %d, want %d", got, c.want)
			}
			hello(t, srv.Addr().String(), "/backlog")
		})
	}
}

func TestV6Only(t *testing.T) {
	srv, _ := serveCfg(t, server.Config{Address: "any", V6Only: true}, nil)
	hello(t, net.JoinHostPort("::1", port(srv)), "/v6")
	if !refused(net.JoinHostPort("127.0.0.1", port(srv))) {
		t.Error("an IPv4 client was accepted by a --v6only listener")
	}
	for _, u := range srv.URLs() {
		if !strings.Contains(u, "[") {
			t.Errorf("URL %s is not IPv6 on a v6only listener", u)
		}
	}
	dual, _ := serveCfg(t, server.Config{Address: "any"}, nil)
	hello(t, net.JoinHostPort("127.0.0.1", port(dual)), "/v4")
	hello(t, net.JoinHostPort("::1", port(dual)), "/v6")
}

func TestListenFD(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	// A bare descriptor, as a parent process would pass: the server owns
	// and closes it, so no *os.File may close the number again.
	fd, err := syscall.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := serveCfg(t, server.Config{ListenFD: fd, Address: "no-such-host.invalid"}, nil)
	if srv.Port() != ln.Addr().(*net.TCPAddr).Port {
		t.Errorf("port %d, want the inherited %s", srv.Port(), ln.Addr())
	}
	hello(t, ln.Addr().String(), "/fd")
	if u := srv.URLs(); len(u) != 1 || u[0] != "http://"+ln.Addr().String()+"/" {
		t.Errorf("URLs %q", u)
	}

	plain, err := os.CreateTemp(t.TempDir(), "notsock")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	uf, _ := udp.(*net.UDPConn).File()
	defer uf.Close()
	for _, c := range []struct {
		name string
		fd   int
		want string
	}{
		{"regular file", int(plain.Fd()), "is not a listening socket"},
		{"udp socket", int(uf.Fd()), "is not a listening socket"},
		{"closed", 100000, "is not a listening socket"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := tryServe(t, server.Config{ListenFD: c.fd}, nil)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("listen fd %d %s", c.fd, c.want)) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestSystemdListenFD(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantFD  int
		wantOK  bool
		wantErr string
	}{
		{"none", nil, 0, false, ""},
		{"ours", map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": "42"}, 3, true, ""},
		{"two, first used", map[string]string{"LISTEN_FDS": "2", "LISTEN_PID": "42"}, 3, true, ""},
		{"another process's", map[string]string{"LISTEN_FDS": "1", "LISTEN_PID": "7"}, 0, false, ""},
		{"bad count", map[string]string{"LISTEN_FDS": "x", "LISTEN_PID": "42"}, 0, false, `LISTEN_FDS="x" is not a positive number`},
		{"zero", map[string]string{"LISTEN_FDS": "0", "LISTEN_PID": "42"}, 0, false, "not a positive number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fd, ok, err := server.SystemdListenFD(func(k string) string { return c.env[k] }, 42)
			if fd != c.wantFD || ok != c.wantOK || (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("got %d %v %v", fd, ok, err)
			}
		})
	}
}
