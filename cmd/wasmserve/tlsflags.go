package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/wasmserve/wasmserve/host/server"
)

// http3Config reads --http3 and --http3-0rtt; nil without --http3.
func http3Config(c *cli.Context) (*server.HTTP3Config, error) {
	if !c.Bool("http3") {
		if c.Bool("http3-0rtt") {
			return nil, errors.New("--http3-0rtt needs --http3")
		}
		return nil, nil
	}
	return &server.HTTP3Config{Allow0RTT: c.Bool("http3-0rtt")}, nil
}

// tlsConfig reads the TLS flags; nil without --tls-cert and --tls-key.
func tlsConfig(c *cli.Context) (*server.TLSConfig, error) {
	if c.String("tls-cert") == "" && c.String("tls-key") == "" {
		if c.Bool("http3") || c.Bool("http3-0rtt") {
			return nil, errors.New("--http3 needs TLS: QUIC is always encrypted; give --tls-cert and --tls-key")
		}
		for _, name := range []string{"tls-key-password", "tls-key-password-file", "client-cert", "client-ca", "alpn", "tls-min-version"} {
			if c.IsSet(name) {
				return nil, fmt.Errorf("--%s needs --tls-cert and --tls-key", name)
			}
		}
		return nil, nil
	}
	if c.String("tls-cert") == "" || c.String("tls-key") == "" {
		return nil, errors.New("TLS needs both --tls-cert and --tls-key")
	}
	mode, err := server.ParseClientCertMode(c.String("client-cert"))
	if err != nil {
		return nil, fmt.Errorf("--client-cert: %w", err)
	}
	minVersion, err := server.ParseTLSVersion(c.String("tls-min-version"))
	if err != nil {
		return nil, fmt.Errorf("--tls-min-version: %w", err)
	}
	var alpn []string
	for _, p := range strings.Split(c.String("alpn"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			alpn = append(alpn, p)
		}
	}
	if len(alpn) == 0 {
		return nil, errors.New("--alpn is empty: use h2, http/1.1 or both")
	}
	password := []byte(c.String("tls-key-password"))
	if file := c.String("tls-key-password-file"); file != "" {
		if len(password) > 0 {
			return nil, errors.New("give --tls-key-password or --tls-key-password-file, not both")
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--tls-key-password-file: %w", err)
		}
		password = []byte(strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r"))
	}
	return &server.TLSConfig{
		CertFile:     c.String("tls-cert"),
		KeyFile:      c.String("tls-key"),
		KeyPassword:  password,
		ClientCert:   mode,
		ClientCAFile: c.String("client-ca"),
		ALPN:         alpn,
		MinVersion:   minVersion,
	}, nil
}
