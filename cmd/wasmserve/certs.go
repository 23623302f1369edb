package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/internal/devcert"
	"github.com/wasmserve/wasmserve/internal/project"
)

func certsCommand() *cli.Command {
	return &cli.Command{
		Name:      "certs",
		Usage:     "make a development CA, a server certificate for HOSTs and a client certificate",
		ArgsUsage: "[HOST...] (default: " + strings.Join(devcert.DefaultHosts, " ") + ")",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Value: "wasmserve-certs", Usage: "directory to write the PEM files into"},
			&cli.IntFlag{Name: "days", Value: 825, Usage: "validity of every certificate, in days"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite certificates already in --out"},
		},
		OnUsageError: usageError("wasmserve certs"),
		Action:       certs,
	}
}

func certs(c *cli.Context) error {
	hosts := c.Args().Slice()
	if len(hosts) == 0 {
		hosts = devcert.DefaultHosts
	}
	days := c.Int("days")
	if days < 1 {
		return fmt.Errorf("--days must be 1 or more, got %d", days)
	}
	dir := c.String("out")
	if !c.Bool("force") {
		if _, err := os.Stat(devcert.Files(dir).CA); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s already exists: choose another --out or add --force to replace the set", devcert.Files(dir).CA)
		}
	}
	set, err := devcert.Generate(dir, hosts, time.Duration(days)*24*time.Hour)
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	url := "https://" + net.JoinHostPort(hosts[0], "8443") + "/"
	w := c.App.Writer
	fmt.Fprintf(w, "Wrote a development CA, a server certificate for %s and a client certificate to %s (keys 0600, valid %d days).\n", strings.Join(hosts, ", "), dir, days)
	fmt.Fprintf(w, "Trust %s only on machines you develop on; anyone with %s can impersonate any site to them.\n\n", set.CA, set.CAKey)
	fmt.Fprintf(w, "Serve HTTPS:\n  wasmserve serve --port 8443 --tls-cert %s --tls-key %s MODULE.wasm\n", q(set.Cert), q(set.Key))
	fmt.Fprintf(w, "  curl --cacert %s %s\n\n", q(set.CA), url)
	fmt.Fprintf(w, "Require a client certificate (mutual TLS):\n  wasmserve serve --port 8443 --tls-cert %s --tls-key %s --client-cert require --client-ca %s MODULE.wasm\n",
		q(set.Cert), q(set.Key), q(set.CA))
	fmt.Fprintf(w, "  curl --cacert %s --cert %s --key %s %s\n", q(set.CA), q(set.ClientCert), q(set.ClientKey), url)
	return nil
}

// q quotes a path for a POSIX shell when it needs quoting.
func q(s string) string { return project.Quote(s) }
