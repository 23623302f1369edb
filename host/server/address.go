package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Address keywords accepted by Config.Address, after Dart's
// InternetAddress.anyIPv4 and friends.
const (
	AddressAny       = "any"       // dual-stack "::" (IPv4 too unless V6Only)
	AddressAny4      = "any4"      // 0.0.0.0
	AddressAny6      = "any6"      // "::" with IPv6 only
	AddressLoopback  = "loopback"  // 127.0.0.1
	AddressLoopback6 = "loopback6" // ::1
)

// Resolved is where a listener binds: the network ("tcp", "tcp4" or
// "tcp6"), the IP, and how the user named it.
type Resolved struct {
	// Network is the net.Listen network.
	Network string
	// IP is the address to bind; the unspecified address for the any
	// keywords.
	IP netip.Addr
	// Name is the host name the user gave, "" for literals and keywords.
	Name string
	// Candidates are every address the name resolved to, the first of
	// which was chosen; nil for literals and keywords.
	Candidates []netip.Addr
}

// Resolve turns the --address value into a bind address: a keyword, an IP
// literal (an IPv6 one with or without brackets), or a host name looked up
// with the first result used. Empty means "localhost".
func Resolve(ctx context.Context, address string) (Resolved, error) {
	switch strings.ToLower(address) {
	case AddressAny:
		return Resolved{Network: "tcp", IP: netip.IPv6Unspecified()}, nil
	case AddressAny4:
		return Resolved{Network: "tcp4", IP: netip.IPv4Unspecified()}, nil
	case AddressAny6:
		return Resolved{Network: "tcp6", IP: netip.IPv6Unspecified()}, nil
	case AddressLoopback:
		return Resolved{Network: "tcp4", IP: netip.AddrFrom4([4]byte{127, 0, 0, 1})}, nil
	case AddressLoopback6:
		return Resolved{Network: "tcp6", IP: netip.IPv6Loopback()}, nil
	case "":
		address = "localhost"
	}
	literal := address
	if strings.HasPrefix(literal, "[") && strings.HasSuffix(literal, "]") {
		literal = literal[1 : len(literal)-1]
	}
	if ip, err := netip.ParseAddr(literal); err == nil {
		if ip.Zone() != "" {
			return Resolved{}, fmt.Errorf("address %q: zoned IPv6 addresses are not supported", address)
		}
		ip = ip.Unmap()
		return Resolved{Network: networkFor(ip), IP: ip}, nil
	}
	if strings.ContainsAny(address, "[]/ ") || strings.Count(address, ":") > 0 {
		return Resolved{}, fmt.Errorf("address %q is neither an IP address nor a host name (a port goes in Config.Port)", address)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", address)
	if err != nil {
		return Resolved{}, fmt.Errorf("address %q does not resolve: %w", address, err)
	}
	if len(ips) == 0 {
		return Resolved{}, fmt.Errorf("address %q resolves to no IP address", address)
	}
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	return Resolved{Network: networkFor(ips[0]), IP: ips[0], Name: address, Candidates: ips}, nil
}

func networkFor(ip netip.Addr) string {
	if ip.Is4() {
		return "tcp4"
	}
	return "tcp6"
}
