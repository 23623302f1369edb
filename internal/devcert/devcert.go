// Package devcert makes development certificates: a CA, server
// certificates for host names and IP addresses, and client certificates,
// with ECDSA P-256 keys. It backs `wasmserve certs` and the TLS tests.
package devcert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/wasmserve/wasmserve/internal/atomicfile"
)

// Organization names every certificate devcert makes.
const Organization = "wasmserve development"

// Authority is a certificate authority that can issue certificates.
type Authority struct {
	// Cert is the self-signed CA certificate.
	Cert *x509.Certificate
	// Key is its private key.
	Key crypto.Signer
}

// NewAuthority makes a self-signed CA named cn, valid from notBefore to
// notAfter.
func NewAuthority(cn string, notBefore, notAfter time.Time) (*Authority, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{Organization}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	cert, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: cert, Key: key}, nil
}

// Leaf describes a certificate to issue. The zero NotBefore is an hour ago;
// the zero NotAfter is a year from now.
type Leaf struct {
	// CommonName is the subject's CN.
	CommonName string
	// Hosts are DNS names and IP addresses for the SAN extension.
	Hosts []string
	// Client makes a client-authentication certificate instead of a
	// server one.
	Client bool
	// NotBefore and NotAfter bound the validity.
	NotBefore, NotAfter time.Time
	// Key is the subject's key; nil makes a new P-256 key.
	Key crypto.Signer
}

// Issue signs a certificate for l and returns it with its key.
func (a *Authority) Issue(l Leaf) (*x509.Certificate, crypto.Signer, error) {
	key := l.Key
	if key == nil {
		var err error
		if key, err = NewKey(); err != nil {
			return nil, nil, err
		}
	}
	if l.NotBefore.IsZero() {
		l.NotBefore = time.Now().Add(-time.Hour)
	}
	if l.NotAfter.IsZero() {
		l.NotAfter = time.Now().AddDate(1, 0, 0)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: l.CommonName, Organization: []string{Organization}},
		NotBefore:   l.NotBefore,
		NotAfter:    l.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if l.Client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, h := range l.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	cert, err := sign(tmpl, a.Cert, key.Public(), a.Key)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// NewKey makes an ECDSA P-256 key.
func NewKey() (crypto.Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating a key: %w", err)
	}
	return k, nil
}

func sign(tmpl, parent *x509.Certificate, pub any, key crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("signing the certificate for %q: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// CertPEM encodes certificates as PEM, in order.
func CertPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// KeyPEM encodes a private key as unencrypted PKCS#8 PEM.
func KeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Set names the files Generate writes.
type Set struct {
	CA, CAKey, Cert, Key, ClientCert, ClientKey string
}

// Files returns the paths of a set in dir.
func Files(dir string) Set {
	j := func(name string) string { return filepath.Join(dir, name) }
	return Set{
		CA: j("ca.pem"), CAKey: j("ca-key.pem"),
		Cert: j("server.pem"), Key: j("server-key.pem"),
		ClientCert: j("client.pem"), ClientKey: j("client-key.pem"),
	}
}

// DefaultHosts are the names a server certificate covers when none are
// given.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// Generate writes a CA, a server certificate for hosts and a client
// certificate ("CN=wasmserve client") into dir, each valid for validity;
// keys are written 0600.
func Generate(dir string, hosts []string, validity time.Duration) (Set, error) {
	if len(hosts) == 0 {
		return Set{}, errors.New("no host names for the server certificate")
	}
	if validity <= 0 {
		return Set{}, fmt.Errorf("validity %s is not positive", validity)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Set{}, err
	}
	from := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	to := from.Add(validity)
	ca, err := NewAuthority("wasmserve development CA", from, to)
	if err != nil {
		return Set{}, err
	}
	srv, srvKey, err := ca.Issue(Leaf{CommonName: hosts[0], Hosts: hosts, NotBefore: from, NotAfter: to})
	if err != nil {
		return Set{}, err
	}
	cli, cliKey, err := ca.Issue(Leaf{CommonName: "wasmserve client", Client: true, NotBefore: from, NotAfter: to})
	if err != nil {
		return Set{}, err
	}
	set := Files(dir)
	for _, f := range []struct {
		path string
		cert *x509.Certificate
		key  crypto.Signer
	}{
		{set.CA, ca.Cert, nil}, {set.CAKey, nil, ca.Key},
		{set.Cert, srv, nil}, {set.Key, nil, srvKey},
		{set.ClientCert, cli, nil}, {set.ClientKey, nil, cliKey},
	} {
		var data []byte
		mode := os.FileMode(0o644)
		if f.cert != nil {
			data = CertPEM(f.cert)
		} else {
			if data, err = KeyPEM(f.key); err != nil {
				return Set{}, err
			}
			mode = 0o600
		}
		if err := writeFile(f.path, data, mode); err != nil {
			return Set{}, err
		}
	}
	return set, nil
}

// writeFile replaces path with data and mode; a key is never readable by
// others, not even while an older file is being overwritten.
func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := atomicfile.Write(path, mode, data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
