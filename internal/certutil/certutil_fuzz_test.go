package certutil

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// selfSigned returns a PEM chain and PEM key for seeds.
func selfSigned(tb testing.TB) (chainPEM, keyPEM []byte) {
	key, err := GenerateKey(P256)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "seed"}, DNSNames: []string{"seed.example"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	keyPEM, err = EncodeKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return EncodeChain([][]byte{der}), keyPEM
}

// FuzzDecode feeds stored PEM (certificate chains and keys, as read back
// from storage or given by an operator) to the decoders: no panic, and a
// chain and key that decode build a TLS certificate or fail cleanly.
func FuzzDecode(f *testing.F) {
	chain, key := selfSigned(f)
	f.Add(chain, key)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), []byte("-----BEGIN EC PRIVATE KEY-----\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte{}, []byte("junk"))
	f.Fuzz(func(t *testing.T, chainPEM, keyPEM []byte) {
		ders, cerr := DecodeChain(chainPEM)
		if cerr == nil {
			_, _ = ParseChain(ders)
		}
		k, kerr := DecodeKey(keyPEM)
		if kerr == nil {
			_ = KeyTypeOf(k.Public())
		}
		if cerr == nil && kerr == nil {
			_, _ = TLSCertificate(ders, k)
		}
	})
}
