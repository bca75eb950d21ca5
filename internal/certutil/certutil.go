// Package certutil holds the key and PEM helpers shared by the acme,
// tlsmgr and reload packages.
package certutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strings"
)

// KeyType names a private key algorithm. The zero value is not valid; callers
// default it to [P256].
type KeyType string

// The key types.
const (
	P256    KeyType = "p256"
	P384    KeyType = "p384"
	RSA2048 KeyType = "rsa2048"
	RSA3072 KeyType = "rsa3072"
	RSA4096 KeyType = "rsa4096"
	Ed25519 KeyType = "ed25519"
)

// KeyTypes lists the valid key types.
func KeyTypes() []KeyType { return []KeyType{P256, P384, RSA2048, RSA3072, RSA4096, Ed25519} }

// GenerateKey makes a new private key of type kt.
func GenerateKey(kt KeyType) (crypto.Signer, error) {
	switch kt {
	case P256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("unknown key type %q: use one of %v", string(kt), KeyTypes())
}

// KeyTypeOf reports the type of a public key, or "" if it is none of ours.
func KeyTypeOf(pub crypto.PublicKey) KeyType {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return P256
		case elliptic.P384():
			return P384
		}
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 2048:
			return RSA2048
		case 3072:
			return RSA3072
		case 4096:
			return RSA4096
		}
	case ed25519.PublicKey:
		return Ed25519
	}
	return ""
}

// EncodeKey returns key as a PKCS #8 "PRIVATE KEY" PEM block.
func EncodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// DecodeKey parses the first private key PEM block (PKCS #8, PKCS #1 or
// SEC 1) in data. Its error never quotes the key.
func DecodeKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no private key PEM block found")
		}
		if !strings.HasSuffix(b.Type, "PRIVATE KEY") {
			continue
		}
		if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
			if s, ok := k.(crypto.Signer); ok {
				return s, nil
			}
			return nil, errors.New("private key is not a signer")
		}
		if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
			return k, nil
		}
		if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
			return k, nil
		}
		return nil, fmt.Errorf("cannot parse %s block", b.Type)
	}
}

// EncodeChain returns DER certificates as concatenated "CERTIFICATE" PEM blocks.
func EncodeChain(chain [][]byte) []byte {
	var out []byte
	for _, der := range chain {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return out
}

// DecodeChain returns the DER of every "CERTIFICATE" PEM block in data, in
// order. It fails if there is none.
func DecodeChain(data []byte) ([][]byte, error) {
	var chain [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			chain = append(chain, b.Bytes)
		}
	}
	if len(chain) == 0 {
		return nil, errors.New("no CERTIFICATE PEM block found")
	}
	return chain, nil
}

// ParseChain parses DER certificates.
func ParseChain(chain [][]byte) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(chain))
	for i, der := range chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("certificate %d of chain: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// TLSCertificate builds a tls.Certificate from a DER chain and its key, with
// Leaf set.
func TLSCertificate(chain [][]byte, key crypto.Signer) (*tls.Certificate, error) {
	if len(chain) == 0 {
		return nil, errors.New("empty certificate chain")
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("parse leaf: %w", err)
	}
	return &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

// KeyMatches reports whether key is the private half of pub.
func KeyMatches(key crypto.Signer, pub crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := key.Public().(equaler)
	return ok && e.Equal(pub)
}

// SplitNames splits names into DNS names (lower-cased, as given, wildcards
// kept) and IP addresses.
func SplitNames(names []string) (dns []string, ips []net.IP) {
	for _, n := range names {
		if ip := net.ParseIP(strings.Trim(n, "[]")); ip != nil {
			ips = append(ips, ip)
			continue
		}
		dns = append(dns, strings.ToLower(strings.TrimSuffix(n, ".")))
	}
	return dns, ips
}

// Covers reports whether leaf's SANs cover name (a DNS name, wildcard or IP
// address). A wildcard name is covered only by the same wildcard SAN.
func Covers(leaf *x509.Certificate, name string) bool {
	if ip := net.ParseIP(strings.Trim(name, "[]")); ip != nil {
		for _, x := range leaf.IPAddresses {
			if x.Equal(ip) {
				return true
			}
		}
		return false
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, san := range leaf.DNSNames {
		san = strings.ToLower(san)
		if san == name {
			return true
		}
		if strings.HasPrefix(name, "*.") {
			continue
		}
		if strings.HasPrefix(san, "*.") {
			if i := strings.IndexByte(name, '.'); i > 0 && name[i:] == san[1:] {
				return true
			}
		}
	}
	return false
}
