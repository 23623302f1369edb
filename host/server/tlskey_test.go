package server

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmserve/wasmserve/internal/devcert"
)

// keyCase is one way of writing a private key to a file.
type keyCase struct {
	name     string
	rsa      bool   // the certificate's key is RSA (else ECDSA)
	password string // passed to the loader
	encode   func(t *testing.T, key crypto.Signer, dir string) []byte
	wantErr  string // "" = loads
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8DER(t *testing.T, key crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// legacyPEM encrypts a key the way "openssl rsa -aes256" used to.
func legacyPEM(password string) func(*testing.T, crypto.Signer, string) []byte {
	return func(t *testing.T, key crypto.Signer, _ string) []byte {
		var typ string
		var der []byte
		switch k := key.(type) {
		case *rsa.PrivateKey:
			typ, der = "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k)
		default:
			var err error
			typ = "EC PRIVATE KEY"
			if der, err = x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey)); err != nil {
				t.Fatal(err)
			}
		}
		//nolint:staticcheck // legacy PEM encryption is what this case tests.
		b, err := x509.EncryptPEMBlock(rand.Reader, typ, der, []byte(password), x509.PEMCipherAES256)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(b)
	}
}

// pbes2PEM encrypts a key as PKCS#8 PBES2 with PBKDF2-HMAC-SHA256 and
// AES-256-CBC, written here from RFC 8018 independently of the loader.
func pbes2PEM(password string) func(*testing.T, crypto.Signer, string) []byte {
	return func(t *testing.T, key crypto.Signer, _ string) []byte {
		plain := pkcs8DER(t, key)
		salt, iv := make([]byte, 16), make([]byte, 16)
		rand.Read(salt)
		rand.Read(iv)
		k, err := pbkdf2.Key(sha256.New, password, salt, 2048, 32)
		if err != nil {
			t.Fatal(err)
		}
		pad := 16 - len(plain)%16
		plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
		block, _ := aes.NewCipher(k)
		ct := make([]byte, len(plain))
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, plain)
		must := func(b []byte, err error) []byte {
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		kdf := must(asn1.Marshal(pbkdf2Params{Salt: salt, IterationCount: 2048, KeyLength: 32,
			PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACSHA256, Parameters: asn1.NullRawValue}}))
		ivDER := must(asn1.Marshal(iv))
		params := must(asn1.Marshal(pbes2Params{
			KeyDerivationFunc: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
			EncryptionScheme:  pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
		}))
		info := must(asn1.Marshal(encryptedPrivateKeyInfo{
			Algorithm:     pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
			EncryptedData: ct,
		}))
		return pemOf("ENCRYPTED PRIVATE KEY", info)
	}
}

// opensslPKCS8 has openssl encrypt the key with extra pkcs8 arguments.
func opensslPKCS8(args ...string) func(*testing.T, crypto.Signer, string) []byte {
	return func(t *testing.T, key crypto.Signer, dir string) []byte {
		if _, err := exec.LookPath("openssl"); err != nil {
			t.Skip("openssl is not installed")
		}
		in := filepath.Join(dir, "plain.pem")
		out := filepath.Join(dir, "enc.pem")
		if err := os.WriteFile(in, pemOf("PRIVATE KEY", pkcs8DER(t, key)), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("openssl", append([]string{"pkcs8", "-topk8", "-in", in, "-out", out, "-passout", "pass:s3cret"}, args...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("openssl %v: %v\n%s", args, err, b)
		}
		return readAll(t, out)
	}
}

func TestKeyFormats(t *testing.T) {
	cases := []keyCase{
		{name: "PKCS#1 RSA", rsa: true, encode: func(t *testing.T, k crypto.Signer, _ string) []byte {
			return pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.(*rsa.PrivateKey)))
		}},
		{name: "SEC 1 EC", encode: func(t *testing.T, k crypto.Signer, _ string) []byte {
			der, err := x509.MarshalECPrivateKey(k.(*ecdsa.PrivateKey))
			if err != nil {
				t.Fatal(err)
			}
			return pemOf("EC PRIVATE KEY", der)
		}},
		{name: "PKCS#8 EC", encode: func(t *testing.T, k crypto.Signer, _ string) []byte { return pemOf("PRIVATE KEY", pkcs8DER(t, k)) }},
		{name: "PKCS#8 RSA", rsa: true, encode: func(t *testing.T, k crypto.Signer, _ string) []byte { return pemOf("PRIVATE KEY", pkcs8DER(t, k)) }},
		{name: "legacy encrypted RSA", rsa: true, password: "s3cret", encode: legacyPEM("s3cret")},
		{name: "legacy encrypted EC", password: "s3cret", encode: legacyPEM("s3cret")},
		{name: "legacy encrypted, wrong password", password: "guess", encode: legacyPEM("s3cret"), wantErr: "wrong password"},
		{name: "legacy encrypted, no password", encode: legacyPEM("s3cret"), wantErr: "the key is encrypted: give its password (TLSConfig.KeyPassword)"},
		{name: "PBES2 AES-256 SHA-256", password: "s3cret", encode: pbes2PEM("s3cret")},
		{name: "PBES2, wrong password", password: "guess", encode: pbes2PEM("s3cret"), wantErr: "wrong password"},
		{name: "PBES2, no password", encode: pbes2PEM("s3cret"), wantErr: "the key is encrypted"},
		{name: "openssl pkcs8 default", password: "s3cret", encode: opensslPKCS8()},
		{name: "openssl pkcs8 aes-128 sha1", password: "s3cret", encode: opensslPKCS8("-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1")},
		{name: "openssl pkcs8 aes-192 sha512", password: "s3cret", encode: opensslPKCS8("-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512")},
		{name: "openssl pkcs8 3des", password: "s3cret", encode: opensslPKCS8("-v2", "des3")},
		{name: "openssl pkcs8, wrong password", password: "nope", encode: opensslPKCS8(), wantErr: "wrong password"},
		{name: "openssl pkcs8 PBES1 refused", password: "s3cret", encode: opensslPKCS8("-v1", "PBE-SHA1-3DES"), wantErr: "only PBES2"},
		{name: "no key in file", encode: func(*testing.T, crypto.Signer, string) []byte { return []byte("hello\n") }, wantErr: "no PEM private key found"},
	}
	ca := testCA(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var key crypto.Signer
			if c.rsa {
				k, err := rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					t.Fatal(err)
				}
				key = k
			} else {
				k, err := devcert.NewKey()
				if err != nil {
					t.Fatal(err)
				}
				key = k
			}
			cert, _, err := ca.Issue(devcert.Leaf{CommonName: "localhost", Hosts: []string{"localhost", "127.0.0.1"}, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
			os.WriteFile(certFile, devcert.CertPEM(cert, ca.Cert), 0o644)
			os.WriteFile(keyFile, c.encode(t, key, dir), 0o600)
			pair, err := loadKeyPair(certFile, keyFile, []byte(c.password))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(pair.Certificate) != 2 {
				t.Errorf("chain of %d certificates, want 2", len(pair.Certificate))
			}
			if !strings.Contains(c.name, "encrypted") && !strings.Contains(c.name, "PBES2") {
				return
			}
			// An encrypted key really serves: a full handshake signs with it.
			srv, _ := startServer(t, Config{TLS: &TLSConfig{CertFile: certFile, KeyFile: keyFile, KeyPassword: []byte(c.password)}}, http.NotFoundHandler())
			pool := x509.NewCertPool()
			pool.AddCert(ca.Cert)
			conn, err := tls.Dial("tcp", srv.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
			if err != nil {
				t.Fatal(err)
			}
			conn.Close()
		})
	}
}
