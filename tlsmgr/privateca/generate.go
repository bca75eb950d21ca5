package privateca

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// caBackdate is how far before its creation a generated CA becomes valid,
// so that nodes whose clocks run behind accept it.
const caBackdate = time.Hour

// Generate makes a new self-signed CA with a P-256 key, for callers that
// persist it themselves and pass it to every node as [Config.CertPEM] and
// [Config.KeyPEM]. An empty name means [DefaultName]; a zero lifetime means
// [DefaultCALifetime]. keyPEM is a PKCS #8 PEM block: keep it secret.
func Generate(name string, lifetime time.Duration) (certPEM, keyPEM []byte, err error) {
	cfg, err := Config{Name: name, CALifetime: lifetime}.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	s, err := generate(cfg.Name, cfg.CALifetime, cfg.Now())
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = certutil.EncodeKey(s.key)
	if err != nil {
		return nil, nil, fmt.Errorf("privateca: generate CA: %w", err)
	}
	return s.certPEM, keyPEM, nil
}

// generate makes a new self-signed P-256 CA valid from now-caBackdate to
// now+lifetime.
func generate(name string, lifetime time.Duration, now time.Time) (*signer, error) {
	key, err := certutil.GenerateKey(certutil.P256)
	if err != nil {
		return nil, fmt.Errorf("privateca: generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-caBackdate),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("privateca: generate CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("privateca: parse generated CA: %w", err)
	}
	return &signer{cert: cert, key: key, certPEM: certutil.EncodeChain([][]byte{der})}, nil
}

// randomSerial returns a random positive 128-bit serial number.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("privateca: serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}
