package main

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/host/ext/outbound"
)

// outboundFlags configure guests' outbound HTTP calls (docs/outbound.md):
// denied unless a pattern allows them.
func outboundFlags() []cli.Flag {
	var nets []string
	for _, p := range outbound.DefaultBlockedNetworks {
		nets = append(nets, p.String())
	}
	return []cli.Flag{
		&cli.GenericFlag{Name: "allow-outbound", Value: &repeated{}, EnvVars: env("allow-outbound"),
			Usage: "let guests call origins matching PATTERN: https://api.example.com, https://*.example.com:8443, http://127.0.0.1:9000, * for any (repeatable; none = no outbound calls)"},
		&cli.StringFlag{Name: "block-networks", Value: strings.Join(nets, ","), EnvVars: env("block-networks"),
			Usage: "comma-separated CIDRs a call may not connect to after DNS resolution, unless an --allow-outbound pattern names the address; none = block nothing"},
		&cli.IntFlag{Name: "max-outbound-per-request", Value: outbound.DefaultMaxPerRequest, EnvVars: env("max-outbound-per-request"),
			Usage: "outbound calls one request may make; 0 = no bound"},
		&cli.IntFlag{Name: "max-outbound-in-flight", Value: outbound.DefaultMaxInFlight, EnvVars: env("max-outbound-in-flight"),
			Usage: "outbound calls in flight across the server; more wait; 0 = no bound"},
		&cli.StringFlag{Name: "max-outbound-body", Value: "10MiB", EnvVars: env("max-outbound-body"),
			Usage: "largest outbound response body; 0 = no limit"},
		&cli.DurationFlag{Name: "outbound-timeout", Value: 30 * time.Second, EnvVars: env("outbound-timeout"),
			Usage: "bound on one outbound call, within what is left of --handler-timeout; 0 = only that"},
		&cli.StringFlag{Name: "outbound-ca", EnvVars: env("outbound-ca"), TakesFile: true,
			Usage: "PEM CAs trusted for https origins, besides the system's"},
	}
}

// outboundConfig reads the outbound flags.
func outboundConfig(c *cli.Context, oc *outbound.Config) error {
	for _, p := range *c.Generic("allow-outbound").(*repeated) {
		if err := outbound.ParsePattern(p); err != nil {
			return fmt.Errorf("--allow-outbound: %w", err)
		}
		oc.Allow = append(oc.Allow, p)
	}
	switch s := strings.TrimSpace(c.String("block-networks")); s {
	case "none":
		oc.BlockNetworks = []netip.Prefix{}
	default:
		for _, f := range strings.Split(s, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			p, err := netip.ParsePrefix(f)
			if err != nil {
				ip, err2 := netip.ParseAddr(f)
				if err2 != nil {
					return fmt.Errorf("--block-networks: %q is not a CIDR (10.0.0.0/8) or an address", f)
				}
				p = netip.PrefixFrom(ip, ip.BitLen())
			}
			oc.BlockNetworks = append(oc.BlockNetworks, p.Masked())
		}
		if oc.BlockNetworks == nil {
			oc.BlockNetworks = []netip.Prefix{}
		}
	}
	for name, n := range map[string]*int{"max-outbound-per-request": &oc.MaxCallsPerRequest, "max-outbound-in-flight": &oc.MaxInFlight} {
		v := c.Int(name)
		if v < 0 {
			return fmt.Errorf("--%s must be 0 (no bound) or more, got %d", name, v)
		}
		if *n = v; v == 0 {
			*n = outbound.Unbounded // the flag's 0; the library's 0 is the default
		}
	}
	size, err := parseSize(c.String("max-outbound-body"))
	if err != nil {
		return fmt.Errorf("--max-outbound-body: %w", err)
	}
	if oc.MaxResponseBody = int64(size); size == 0 {
		oc.MaxResponseBody = outbound.Unbounded
	}
	if d := c.Duration("outbound-timeout"); d < 0 {
		return fmt.Errorf("--outbound-timeout must be 0 or more, got %s", d)
	}
	oc.Timeout = c.Duration("outbound-timeout")
	if f := c.String("outbound-ca"); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("--outbound-ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--outbound-ca %s: no PEM certificate in it", f)
		}
		oc.RootCAs = pool
	}
	return nil
}
