package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// listen binds the resolved address and port, turning the common failures
// into messages that say what to do.
func listen(ctx context.Context, res Resolved, port int) (net.Listener, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("port %d is out of range (0 to 65535; 0 picks a free port)", port)
	}
	addr := net.JoinHostPort(res.IP.String(), strconv.Itoa(port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, res.Network, addr)
	if err == nil {
		return ln, nil
	}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("address %s is already in use: stop the other server, choose another --port, or share the port with --shared", addr)
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		return nil, fmt.Errorf("binding %s needs privileges: ports below 1024 need root or CAP_NET_BIND_SERVICE; use a --port of 1024 or more", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("address %s is not an address of this machine: %w", res.IP, err)
	}
	return nil, fmt.Errorf("listening on %s: %w", addr, err)
}

// writePortFile writes the port to path atomically: a reader sees either no
// file or the whole number.
func writePortFile(path string, port int) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".port-*")
	if err != nil {
		return fmt.Errorf("writing port file: %w", err)
	}
	_, err = tmp.WriteString(strconv.Itoa(port) + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing port file %s: %w", path, err)
	}
	return nil
}

// urls lists the URLs a user can type to reach a listener bound to res on
// port: the name given, or for the unspecified address every interface
// address of the families the socket accepts.
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
