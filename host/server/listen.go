package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/wasmserve/wasmserve/internal/atomicfile"
)

// sockOptions are the bind options beyond address and port; the zero value
// is a dual-stack (for "::"), unshared socket with the system's backlog.
type sockOptions struct {
	// backlog is listen(2)'s backlog; 0 is the system default (somaxconn).
	backlog int
	// v6only makes an IPv6 socket refuse IPv4-mapped clients.
	v6only bool
	// shared sets SO_REUSEPORT so several processes can bind one port.
	shared bool
}

// listen binds the resolved address and port, turning the common failures
// into messages that say what to do.
func listen(ctx context.Context, res Resolved, port int, opts sockOptions) (net.Listener, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("port %d is out of range (0 to 65535; 0 picks a free port)", port)
	}
	if opts.backlog < 0 {
		return nil, fmt.Errorf("backlog %d is negative (0 is the system default)", opts.backlog)
	}
	if opts.v6only && !res.IP.Is6() {
		return nil, fmt.Errorf("v6only needs an IPv6 address, but the address is %s", res.IP)
	}
	ln, err := listenSocket(ctx, res, port, opts)
	if err != nil {
		return nil, listenError(net.JoinHostPort(res.IP.String(), strconv.Itoa(port)), res.IP, err)
	}
	return ln, nil
}

// listenError maps a bind or listen failure on addr onto a message that
// says what to do: address in use, a privileged port, an address that is
// not this machine's; anything else is wrapped as is.
func listenError(addr string, ip netip.Addr, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("address %s is already in use: stop the other server, choose another Config.Port, or share the port with Config.Shared (on every process)", addr)
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		return fmt.Errorf("binding %s needs privileges: ports below 1024 need root or CAP_NET_BIND_SERVICE; use a Config.Port of 1024 or more", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("address %s is not an address of this machine: %w", ip, err)
	case errors.Is(err, errUnsupported):
		return err
	}
	return fmt.Errorf("listening on %s: %w", addr, err)
}

// errUnsupported marks a socket option this platform cannot honour.
var errUnsupported = errors.New("unsupported on this platform")

// SystemdListenFD reports the socket systemd passed by socket activation:
// LISTEN_PID must be pid and LISTEN_FDS at least 1; the first passed
// descriptor, 3, is used. ok is false when no socket was passed. getenv is
// os.Getenv in production.
func SystemdListenFD(getenv func(string) string, pid int) (fd int, ok bool, err error) {
	fds, lpid := getenv("LISTEN_FDS"), getenv("LISTEN_PID")
	if fds == "" {
		return 0, false, nil
	}
	if lpid != strconv.Itoa(pid) {
		return 0, false, nil // meant for another process
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 1 {
		return 0, false, fmt.Errorf("LISTEN_FDS=%q is not a positive number of sockets", fds)
	}
	return 3, true, nil
}

// resolvedFrom describes a listener that was not bound from a Resolved,
// such as an inherited one.
func resolvedFrom(addr net.Addr) Resolved {
	ap := addr.(*net.TCPAddr).AddrPort()
	ip := ap.Addr().Unmap()
	return Resolved{Network: networkFor(ip), IP: ip}
}

// writePortFile writes the port to path atomically: a reader sees either no
// file or the whole number.
func writePortFile(path string, port int) error {
	if err := atomicfile.Write(path, 0o600, []byte(strconv.Itoa(port)+"\n")); err != nil {
		return fmt.Errorf("writing port file %s: %w", path, err)
	}
	return nil
}

// urls lists the URLs a user can type to reach a listener bound to res on
// port: the name given, or for the unspecified address every interface
// address of the families the socket accepts (IPv6 bracketed).
func urls(scheme string, res Resolved, port int) []string {
	p := strconv.Itoa(port)
	var out []string
	add := func(host string) { out = append(out, scheme+"://"+net.JoinHostPort(host, p)+"/") }
	if !res.IP.IsUnspecified() {
		if res.Name != "" {
			add(res.Name)
		}
		add(res.IP.String())
		return out
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		add(res.IP.String())
		return out
	}
	for _, a := range addrs {
		pfx, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := pfx.Addr()
		if ip.IsLinkLocalUnicast() || (ip.Is4() && res.Network == "tcp6") || (ip.Is6() && res.Network == "tcp4") {
			continue
		}
		add(ip.String())
	}
	return out
}

// bind makes the server's listener: the inherited socket when ListenFD is
// set, else the resolved address and port with the socket options.
func (s *Server) bind(ctx context.Context) (net.Listener, Resolved, error) {
	if s.cfg.ListenFD > 0 {
		ln, err := listenFD(s.cfg.ListenFD)
		if err != nil {
			return nil, Resolved{}, err
		}
		return ln, resolvedFrom(ln.Addr()), nil
	}
	res, err := Resolve(ctx, s.cfg.Address)
	if err != nil {
		return nil, Resolved{}, err
	}
	if s.cfg.V6Only && res.IP.Is6() {
		res.Network = "tcp6" // so the URL line lists no IPv4 address
	}
	ln, err := listen(ctx, res, s.cfg.Port, sockOptions{backlog: s.cfg.Backlog, v6only: s.cfg.V6Only, shared: s.cfg.Shared})
	return ln, res, err
}
