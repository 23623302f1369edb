//go:build linux

package server

import (
	"context"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// listenSocket makes the listening socket itself — socket, options, bind,
// listen — because net.Listen always passes somaxconn as the backlog. The
// fd is then handed to net.FileListener.
func listenSocket(_ context.Context, res Resolved, port int, opts sockOptions) (net.Listener, error) {
	family := unix.AF_INET
	if res.IP.Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.IPPROTO_TCP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	f := os.NewFile(uintptr(fd), "tcp-listener")
	defer f.Close() // FileListener keeps its own duplicate
	// SO_REUSEADDR as net.Listen does: a restart can bind over TIME_WAIT.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return nil, os.NewSyscallError("setsockopt SO_REUSEADDR", err)
	}
	if opts.shared {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return nil, os.NewSyscallError("setsockopt SO_REUSEPORT", err)
		}
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET6 {
		v6only := 0
		if opts.v6only || res.Network == "tcp6" {
			v6only = 1
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
			return nil, os.NewSyscallError("setsockopt IPV6_V6ONLY", err)
		}
		sa = &unix.SockaddrInet6{Port: port, Addr: res.IP.As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: port, Addr: res.IP.As4()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return nil, os.NewSyscallError("bind", err)
	}
	backlog := opts.backlog
	if backlog == 0 {
		// listen(2) truncates a backlog above net.core.somaxconn to it,
		// so the largest int asks for exactly the system default.
		backlog = 1<<31 - 1
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return nil, os.NewSyscallError("listen", err)
	}
	return net.FileListener(f)
}
