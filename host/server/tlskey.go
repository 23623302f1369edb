package server

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/pbkdf2"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
)

// errWrongPassword is returned when an encrypted key does not decrypt with
// the password given.
var errWrongPassword = errors.New("wrong password")

// errNeedPassword is returned for an encrypted key without a password.
var errNeedPassword = errors.New("the key is encrypted: give its password (TLSConfig.KeyPassword)")

// parsePrivateKey reads the first private key in PEM data: PKCS#1 ("RSA
// PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY"), PKCS#8 ("PRIVATE KEY"), any of
// those under legacy OpenSSL PEM encryption (Proc-Type: 4,ENCRYPTED), or
// PKCS#8 PBES2 ("ENCRYPTED PRIVATE KEY", PBKDF2 with AES-CBC or 3DES-CBC).
func parsePrivateKey(data, password []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key found (expected a block such as \"-----BEGIN PRIVATE KEY-----\")")
		}
		der := block.Bytes
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY":
			if len(password) == 0 {
				return nil, errNeedPassword
			}
			plain, err := decryptPKCS8(der, password)
			if err != nil {
				return nil, err
			}
			key, err := x509.ParsePKCS8PrivateKey(plain)
			if err != nil {
				// A wrong key can pass the padding check by chance.
				return nil, errWrongPassword
			}
			return asSigner(key)
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
		default:
			continue // e.g. "EC PARAMETERS" before the key
		}
		//lint:ignore SA1019 legacy PEM encryption is insecure but still found in the wild; we only read it.
		if x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck
			if len(password) == 0 {
				return nil, errNeedPassword
			}
			plain, err := x509.DecryptPEMBlock(block, password) //nolint:staticcheck
			if err != nil {
				if errors.Is(err, x509.IncorrectPasswordError) {
					return nil, errWrongPassword
				}
				return nil, fmt.Errorf("decrypting the key: %w", err)
			}
			der = plain
		}
		key, err := parseDERKey(block.Type, der)
		if err != nil && x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck
			return nil, errWrongPassword
		}
		return key, err
	}
}

func parseDERKey(typ string, der []byte) (crypto.Signer, error) {
	var key any
	var err error
	switch typ {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(der)
	default:
		key, err = x509.ParsePKCS8PrivateKey(der)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing the %s: %w", typ, err)
	}
	return asSigner(key)
}

func asSigner(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return k.(crypto.Signer), nil
	case *ecdh.PrivateKey:
		return nil, errors.New("the key is an X25519/ECDH key, which cannot sign a TLS handshake")
	}
	return nil, fmt.Errorf("unsupported private key type %T", key)
}

// Object identifiers of PKCS#5 v2.1 (RFC 8018) and NIST's AES modes.
var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

// encryptedPrivateKeyInfo is RFC 5958's EncryptedPrivateKeyInfo.
type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

// pbes2Params is RFC 8018's PBES2-params.
type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

// pbkdf2Params is RFC 8018's PBKDF2-params with a specified salt.
type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

// maxPBKDF2Iterations bounds the work a hostile key file can ask for.
const maxPBKDF2Iterations = 10_000_000

// decryptPKCS8 decrypts a PBES2 EncryptedPrivateKeyInfo to the DER of a
// PKCS#8 PrivateKeyInfo.
func decryptPKCS8(der, password []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("the ENCRYPTED PRIVATE KEY is not a valid EncryptedPrivateKeyInfo")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("the key is encrypted with %v; only PBES2 (openssl's default since 1.1) is supported", info.Algorithm.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("the key's PBES2 parameters: %w", err)
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("the key uses key derivation %v; only PBKDF2 is supported", params.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("the key's PBKDF2 parameters: %w", err)
	}
	if kdf.IterationCount < 1 || kdf.IterationCount > maxPBKDF2Iterations {
		return nil, fmt.Errorf("the key's PBKDF2 iteration count %d is outside 1..%d", kdf.IterationCount, maxPBKDF2Iterations)
	}
	var prf func() hash.Hash
	switch alg := kdf.PRF.Algorithm; {
	case len(alg) == 0 || alg.Equal(oidHMACSHA1):
		prf = sha1.New
	case alg.Equal(oidHMACSHA224):
		prf = sha256.New224
	case alg.Equal(oidHMACSHA256):
		prf = sha256.New
	case alg.Equal(oidHMACSHA384):
		prf = sha512.New384
	case alg.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, fmt.Errorf("the key's PBKDF2 uses an unsupported PRF %v", alg)
	}
	var keyLen int
	var newBlock func([]byte) (cipher.Block, error)
	switch alg := params.EncryptionScheme.Algorithm; {
	case alg.Equal(oidAES128CBC):
		keyLen, newBlock = 16, aes.NewCipher
	case alg.Equal(oidAES192CBC):
		keyLen, newBlock = 24, aes.NewCipher
	case alg.Equal(oidAES256CBC):
		keyLen, newBlock = 32, aes.NewCipher
	case alg.Equal(oidDESEDE3CBC):
		keyLen, newBlock = 24, des.NewTripleDESCipher
	default:
		return nil, fmt.Errorf("the key is encrypted with an unsupported cipher %v (AES-CBC and 3DES-CBC are supported)", alg)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, fmt.Errorf("the key's PBKDF2 key length %d does not fit its cipher (%d)", kdf.KeyLength, keyLen)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil {
		return nil, fmt.Errorf("the key's cipher IV: %w", err)
	}
	key, err := pbkdf2.Key(prf, string(password), kdf.Salt, kdf.IterationCount, keyLen)
	if err != nil {
		return nil, fmt.Errorf("deriving the key's encryption key: %w", err)
	}
	block, err := newBlock(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	data := info.EncryptedData
	if len(iv) != bs || len(data) == 0 || len(data)%bs != 0 {
		return nil, errors.New("the ENCRYPTED PRIVATE KEY has a malformed IV or ciphertext length")
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	// PKCS#7 padding; a wrong password almost always breaks it.
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > bs || !bytes.Equal(plain[len(plain)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errWrongPassword
	}
	return plain[:len(plain)-pad], nil
}
