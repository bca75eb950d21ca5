package acme

import (
	"crypto"
	"crypto/x509"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// Certificate is a certificate obtained by [Issuer.Obtain] with its key.
type Certificate struct {
	// Chain is the certificate chain as DER, leaf first, without the root.
	Chain [][]byte
	// Key is the private key of the leaf.
	Key crypto.Signer
	// Leaf is Chain[0], parsed.
	Leaf *x509.Certificate
}

// CertPEM returns the chain as concatenated PEM "CERTIFICATE" blocks, leaf
// first, as a server's cert_file expects.
func (c *Certificate) CertPEM() []byte { return certutil.EncodeChain(c.Chain) }

// KeyPEM returns the key as a PEM "PRIVATE KEY" (PKCS #8) block. Write it
// to a file only with mode 0600.
func (c *Certificate) KeyPEM() ([]byte, error) { return certutil.EncodeKey(c.Key) }
