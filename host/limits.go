package host

import (
	"fmt"
	"os"
	"strings"

	"github.com/wasmserve/wasmserve/runtimepool"
)

// ParseDir reads a WASI directory grant, HOST[:GUEST][:ro]: the host
// directory, where the guest sees it (default: the same path), and ":ro" for
// read-only. The host directory must exist.
func ParseDir(s string) (runtimepool.Dir, error) {
	var d runtimepool.Dir
	parts := strings.Split(s, ":")
	if n := len(parts); n > 1 && parts[n-1] == "ro" {
		d.ReadOnly = true
		parts = parts[:n-1]
	}
	switch len(parts) {
	case 1:
		d.Host = parts[0]
	case 2:
		d.Host, d.Guest = parts[0], parts[1]
	default:
		return d, fmt.Errorf("directory grant %q: want HOST[:GUEST][:ro]", s)
	}
	if d.Host == "" {
		return d, fmt.Errorf("directory grant %q: empty host directory", s)
	}
	if d.Guest == "" {
		d.Guest = d.Host
	}
	fi, err := os.Stat(d.Host)
	if err != nil {
		return d, fmt.Errorf("directory grant %q: %w", s, err)
	}
	if !fi.IsDir() {
		return d, fmt.Errorf("directory grant %q: %s is not a directory", s, d.Host)
	}
	return d, nil
}

// ParseEnv checks a WASI environment grant, KEY=VALUE.
func ParseEnv(s string) (string, error) {
	k, _, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", fmt.Errorf("environment grant %q: want KEY=VALUE", s)
	}
	return s, nil
}
