package server

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestListenErrorMessages checks the message for each bind failure. The
// privileged-port case cannot happen here (the tests may run as root), so
// it is checked on the classifier with the errno bind(2) returns.
func TestListenErrorMessages(t *testing.T) {
	ip := netip.MustParseAddr("127.0.0.1")
	wrap := func(e syscall.Errno) error { return os.NewSyscallError("bind", e) }
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"in use", wrap(syscall.EADDRINUSE), "address 127.0.0.1:80 is already in use: stop the other server, choose another Config.Port, or share the port with Config.Shared"},
		{"privileged EACCES", wrap(syscall.EACCES), "binding 127.0.0.1:80 needs privileges: ports below 1024 need root or CAP_NET_BIND_SERVICE"},
		{"privileged EPERM", wrap(syscall.EPERM), "ports below 1024 need root"},
		{"not local", wrap(syscall.EADDRNOTAVAIL), "address 127.0.0.1 is not an address of this machine"},
		{"other", wrap(syscall.EMFILE), "listening on 127.0.0.1:80: bind: too many open files"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := listenError("127.0.0.1:80", ip, c.err).Error(); !strings.Contains(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	for _, c := range []struct {
		name string
		port int
		opts sockOptions
		res  Resolved
		want string
	}{
		{"port too big", 65536, sockOptions{}, Resolved{Network: "tcp4", IP: ip}, "port 65536 is out of range"},
		{"negative backlog", 0, sockOptions{backlog: -1}, Resolved{Network: "tcp4", IP: ip}, "backlog -1 is negative"},
		{"v6only on IPv4", 0, sockOptions{v6only: true}, Resolved{Network: "tcp4", IP: ip}, "v6only needs an IPv6 address, but the address is 127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := listen(context.Background(), c.res, c.port, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}
