package server

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// ClientCertMode says whether a TLS server asks clients for a certificate.
type ClientCertMode int

// Client certificate modes, after Dart's requestClientCertificate and
// requireClientCertificate.
const (
	// ClientCertNone asks for no client certificate (the zero value).
	ClientCertNone ClientCertMode = iota
	// ClientCertRequest asks for one and accepts a handshake without it;
	// a certificate that is sent must verify against the client CAs.
	ClientCertRequest
	// ClientCertRequire rejects a handshake without a client certificate
	// that verifies against the client CAs.
	ClientCertRequire
)

// ParseClientCertMode parses "none", "request" or "require".
func ParseClientCertMode(s string) (ClientCertMode, error) {
	switch strings.ToLower(s) {
	case "", "none":
		return ClientCertNone, nil
	case "request":
		return ClientCertRequest, nil
	case "require":
		return ClientCertRequire, nil
	}
	return 0, fmt.Errorf("client certificate mode %q is not none, request or require", s)
}

// ParseTLSVersion parses "1.0" to "1.3" ("" is 1.2).
func ParseTLSVersion(s string) (uint16, error) {
	switch strings.TrimPrefix(strings.ToLower(s), "tls") {
	case "1.0", "10":
		return tls.VersionTLS10, nil
	case "1.1", "11":
		return tls.VersionTLS11, nil
	case "", "1.2", "12":
		return tls.VersionTLS12, nil
	case "1.3", "13":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("TLS version %q is not 1.0, 1.1, 1.2 or 1.3", s)
}

// TLSConfig turns on HTTPS. CertFile and KeyFile are required; every other
// zero value is a default: no key password, no client certificates, ALPN
// "h2", "http/1.1", and TLS 1.2 as the minimum version.
type TLSConfig struct {
	// CertFile is a PEM file holding the certificate chain, leaf first.
	CertFile string
	// KeyFile is a PEM private key: PKCS#1, SEC 1 (EC) or PKCS#8,
	// optionally encrypted (legacy PEM encryption or PKCS#8 PBES2).
	KeyFile string
	// KeyPassword decrypts an encrypted KeyFile.
	KeyPassword []byte
	// ClientCert says whether clients are asked for a certificate.
	ClientCert ClientCertMode
	// ClientCAFile is a PEM file of the CAs that client certificates must
	// chain to; their names are advertised in the handshake. Required
	// unless ClientCert is ClientCertNone.
	ClientCAFile string
	// ALPN lists the protocols offered, in preference order; nil means
	// "h2", "http/1.1". HTTP/2 is served only if "h2" is listed.
	ALPN []string
	// MinVersion is the lowest TLS version accepted; 0 means TLS 1.2.
	MinVersion uint16
}

// certStore holds what SIGHUP re-reads: the serving certificate and the
// client CAs, and the tls.Config made of them. Every handshake, over TCP
// and QUIC, takes the config current when it starts (GetConfigForClient);
// handshakes under way and open connections keep theirs.
type certStore struct {
	certFile, keyFile string
	password          []byte
	clientCAFile      string // "" without client certificates
	clientAuth        tls.ClientAuthType
	minVersion        uint16
	alpn              []string
	logger            *slog.Logger
	cur               atomic.Pointer[tls.Certificate]
	config            atomic.Pointer[tls.Config]
}

// load reads the pair and the client CAs, checks them, and only then makes
// them current, together: a reload that fails anywhere changes nothing.
// Each load makes a new tls.Config, whose session ticket keys are its own,
// so a session that a client resumes was verified against the client CAs
// now current (see RATIONALE.md).
func (s *certStore) load() error {
	cert, err := loadKeyPair(s.certFile, s.keyFile, s.password)
	if err != nil {
		return err
	}
	var cas *x509.CertPool
	if s.clientCAFile != "" {
		if cas, err = loadClientCAs(s.clientCAFile); err != nil {
			return err
		}
	}
	if now := time.Now(); now.After(cert.Leaf.NotAfter) {
		s.logger.Warn("TLS certificate has expired; serving it anyway, but clients will reject it",
			"cert", s.certFile, "expired", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	} else if now.Before(cert.Leaf.NotBefore) {
		s.logger.Warn("TLS certificate is not valid yet; serving it anyway, but clients will reject it",
			"cert", s.certFile, "not_before", cert.Leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	tc := &tls.Config{
		Certificates: []tls.Certificate{*cert},
		MinVersion:   s.minVersion,
		NextProtos:   s.alpn,
		ClientCAs:    cas,
		ClientAuth:   s.clientAuth,
	}
	s.cur.Store(cert)
	s.config.Store(tc)
	return nil
}

// loadClientCAs reads the PEM CAs client certificates must chain to.
func loadClientCAs(path string) (*x509.CertPool, error) {
	caPEM, err := readPEMFile("TLSConfig.ClientCAFile", path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("TLSConfig.ClientCAFile %s holds no PEM certificate", path)
	}
	return pool, nil
}

// configFor is the tls.Config's GetConfigForClient: the config now current.
func (s *certStore) configFor(*tls.ClientHelloInfo) (*tls.Config, error) { return s.config.Load(), nil }

func (s *certStore) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cur.Load(), nil }

// loadKeyPair reads a PEM certificate chain and its private key and checks
// that they belong together.
func loadKeyPair(certFile, keyFile string, password []byte) (*tls.Certificate, error) {
	certPEM, err := readPEMFile("TLSConfig.CertFile", certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readPEMFile("TLSConfig.KeyFile", keyFile)
	if err != nil {
		return nil, err
	}
	var cert tls.Certificate
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			cert.Certificate = append(cert.Certificate, b.Bytes)
		}
	}
	if len(cert.Certificate) == 0 {
		return nil, fmt.Errorf("certificate %s holds no PEM \"CERTIFICATE\" block", certFile)
	}
	if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
		return nil, fmt.Errorf("certificate %s: %w", certFile, err)
	}
	key, err := parsePrivateKey(keyPEM, password)
	switch {
	case errors.Is(err, errWrongPassword):
		return nil, fmt.Errorf("key %s: wrong password (check TLSConfig.KeyPassword)", keyFile)
	case err != nil:
		return nil, fmt.Errorf("key %s: %w", keyFile, err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.Leaf.PublicKey) {
		return nil, fmt.Errorf("key %s does not match certificate %s (subject %q): they are not a pair", keyFile, certFile, cert.Leaf.Subject.String())
	}
	cert.PrivateKey = key
	return &cert, nil
}

// readPEMFile reads the file of the configuration field named field, with
// a message for a missing one.
func readPEMFile(field, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s %s: no such file", field, path)
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", field, path, err)
	}
	return b, nil
}

// newTLS validates c and builds the server's tls.Config: each handshake
// gets the config of the certificate store, which reload swaps.
func newTLS(c *TLSConfig, logger *slog.Logger) (*tls.Config, *certStore, error) {
	if c.CertFile == "" || c.KeyFile == "" {
		return nil, nil, errors.New("TLS needs both TLSConfig.CertFile and TLSConfig.KeyFile")
	}
	minVersion := c.MinVersion
	if minVersion == 0 {
		minVersion = tls.VersionTLS12
	}
	alpn := c.ALPN
	if alpn == nil {
		alpn = []string{"h2", "http/1.1"}
	}
	store := &certStore{certFile: c.CertFile, keyFile: c.KeyFile, password: c.KeyPassword,
		minVersion: minVersion, alpn: alpn, logger: logger}
	switch c.ClientCert {
	case ClientCertNone:
		if c.ClientCAFile != "" {
			return nil, nil, errors.New("TLSConfig.ClientCAFile is set but TLSConfig.ClientCert is none: set TLSConfig.ClientCert to request or require")
		}
	case ClientCertRequest, ClientCertRequire:
		if c.ClientCAFile == "" {
			return nil, nil, errors.New("TLSConfig.ClientCert request and require need TLSConfig.ClientCAFile, the CAs client certificates must chain to")
		}
		store.clientCAFile = c.ClientCAFile
		store.clientAuth = tls.VerifyClientCertIfGiven
		if c.ClientCert == ClientCertRequire {
			store.clientAuth = tls.RequireAndVerifyClientCert
		}
	default:
		return nil, nil, fmt.Errorf("client certificate mode %d is unknown", c.ClientCert)
	}
	if err := store.load(); err != nil {
		return nil, nil, err
	}
	// The outer config only hands each handshake the current one; its
	// certificate and protocols are there for net/http, which looks at
	// them before serving.
	tc := &tls.Config{
		GetConfigForClient: store.configFor,
		GetCertificate:     store.get,
		MinVersion:         minVersion,
		NextProtos:         alpn,
	}
	return tc, store, nil
}

// Request headers that carry the verified client certificate to the guest.
const (
	// HeaderClientCertSubject is the verified client certificate's subject
	// as an RFC 2253 string, e.g. "CN=alice,O=wasmserve development".
	HeaderClientCertSubject = "X-Client-Cert-Subject"
	// HeaderClientCert is the verified client certificate (leaf only) as
	// PEM, percent-encoded: every byte but A-Z a-z 0-9 - . _ ~ is %XX,
	// so it is one header line and any URL-unescape restores it.
	HeaderClientCert = "X-Client-Cert"
)

// clientCertHeaders removes the client certificate headers from every
// request, however the client spells their names ('_' for '-' included),
// so a client can never inject them, and sets them from the verified peer
// certificate when there is one.
func clientCertHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// net/http stores request header names canonical, and the
		// names are canonical constants: a plain delete removes what
		// Header.Del would, without canonicalising them again on every
		// request.
		delete(r.Header, HeaderClientCertSubject)
		delete(r.Header, HeaderClientCert)
		deleteUnderscoreSpellings(r.Header)
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
			leaf := r.TLS.VerifiedChains[0][0]
			r.Header.Set(HeaderClientCertSubject, leaf.Subject.String())
			r.Header.Set(HeaderClientCert, percentEncode(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})))
		}
		next.ServeHTTP(w, r)
	})
}

// deleteUnderscoreSpellings deletes the headers whose names are the client
// certificate headers' with '_' for one or more '-' ("X_Client_Cert",
// stored as "X_client_cert"): guests, and CGI gateways that make both
// HTTP_X_CLIENT_CERT, may read such a name as the real one. A name can be
// one only with the length of one and a '_' in it, which the names of a
// request seldom have: for most requests this is a pass over the names
// comparing lengths.
func deleteUnderscoreSpellings(h http.Header) {
	for k := range h {
		if (len(k) == len(HeaderClientCert) || len(k) == len(HeaderClientCertSubject)) &&
			strings.IndexByte(k, '_') >= 0 &&
			(sameHeaderName(k, HeaderClientCert) || sameHeaderName(k, HeaderClientCertSubject)) {
			delete(h, k)
		}
	}
}

// sameHeaderName reports whether header names a and b are equal when
// ASCII case is ignored and '_' is read as '-'.
func sameHeaderName(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == '_' {
			x = '-'
		}
		if y == '_' {
			y = '-'
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// percentEncode escapes every byte outside RFC 3986's unreserved set.
func percentEncode(b []byte) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for _, c := range b {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&15])
	}
	return sb.String()
}

// configureProtocols sets up TLS, ALPN and h2c on the http.Server from the
// config; Listen calls it before binding so a bad certificate fails first.
func (s *Server) configureProtocols() error {
	var p http.Protocols
	if s.cfg.TLS == nil {
		if s.cfg.H2C {
			// net/http serves prior-knowledge h2c itself; x/net's h2c
			// handler adds the HTTP/1.1 "Upgrade: h2c" path.
			p.SetUnencryptedHTTP2(true)
			s.http.Handler = h2cUpgrade(s.http.Handler, s.cfg.IdleTimeout)
		}
		p.SetHTTP1(true)
		s.http.Protocols = &p
		return nil
	}
	if s.cfg.H2C {
		return errors.New("Config.H2C is cleartext HTTP/2 and cannot be combined with TLS (HTTP/2 over TLS is on by default through TLSConfig.ALPN)")
	}
	logger := s.cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tc, store, err := newTLS(s.cfg.TLS, logger)
	if err != nil {
		return err
	}
	for _, proto := range tc.NextProtos {
		switch proto {
		case "h2":
			p.SetHTTP2(true)
		case "http/1.1":
			p.SetHTTP1(true)
		case "h3":
			return errors.New("ALPN protocol \"h3\" is served over QUIC, not TCP: set Config.HTTP3 instead")
		default:
			return fmt.Errorf("ALPN protocol %q is not served: use h2, http/1.1 or both", proto)
		}
	}
	if len(tc.NextProtos) == 0 {
		return errors.New("ALPN list is empty: use h2, http/1.1 or both")
	}
	s.http.TLSConfig, s.http.Protocols, s.certs = tc, &p, store
	return nil
}

// ReloadTLS re-reads the certificate and key files and the client CA file,
// for the TCP and QUIC listeners alike. New handshakes use what was read;
// open connections keep theirs, and a session ticket issued before cannot
// be resumed after. When any file fails to load, all of the old ones keep
// serving and the error says why. Without TLS it does nothing.
func (s *Server) ReloadTLS() error {
	if s.certs == nil {
		return nil
	}
	if err := s.certs.load(); err != nil {
		return fmt.Errorf("%w; still serving the previous certificate", err)
	}
	return nil
}

// Certificate returns the certificate being served, nil without TLS.
func (s *Server) Certificate() *x509.Certificate {
	if s.certs == nil {
		return nil
	}
	return s.certs.cur.Load().Leaf
}
