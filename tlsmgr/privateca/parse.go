package privateca

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// signer is a CA certificate with its private key.
type signer struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
}

// parseSigner parses and checks a CA certificate and its key. certField and
// keyField name the arguments in errors.
func parseSigner(certPEM, keyPEM []byte, certField, keyField string, now time.Time) (*signer, error) {
	if len(keyPEM) == 0 {
		return nil, &ConfigError{Field: keyField, Reason: "missing while " + certField + " is set",
			Fix: "give the CA private key PEM too, or neither to generate a CA"}
	}
	certs, err := parseCAs(certPEM, certField, now)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, &ConfigError{Field: certField, Reason: fmt.Sprintf("holds %d certificates", len(certs)),
			Fix: "give exactly one CA certificate to sign with; put other trusted CAs in Config.Trust"}
	}
	key, err := certutil.DecodeKey(keyPEM)
	if err != nil {
		return nil, &ConfigError{Field: keyField, Reason: "cannot parse private key",
			Fix: "give a PEM private key (PKCS #8, PKCS #1 or SEC 1)", Err: err}
	}
	if !certutil.KeyMatches(key, certs[0].PublicKey) {
		return nil, &ConfigError{Field: keyField, Reason: "does not match the public key of " + certField,
			Fix: "give the private key of that CA certificate"}
	}
	return &signer{cert: certs[0], key: key, certPEM: certutil.EncodeChain([][]byte{certs[0].Raw})}, nil
}

// parseCAs parses every certificate in data and checks that each is an
// unexpired CA certificate.
func parseCAs(data []byte, field string, now time.Time) ([]*x509.Certificate, error) {
	ders, err := certutil.DecodeChain(data)
	if err != nil {
		return nil, &ConfigError{Field: field, Reason: "no certificate", Fix: "give PEM \"CERTIFICATE\" blocks", Err: err}
	}
	certs, err := certutil.ParseChain(ders)
	if err != nil {
		return nil, &ConfigError{Field: field, Reason: "cannot parse certificate", Fix: "give valid X.509 certificates in PEM", Err: err}
	}
	for _, c := range certs {
		if err := checkCA(c, field, now); err != nil {
			return nil, err
		}
	}
	return certs, nil
}

// checkCA reports whether c can act as a CA for serverAuth+clientAuth leaves now.
func checkCA(c *x509.Certificate, field string, now time.Time) error {
	subject := fmt.Sprintf("certificate %q", c.Subject.String())
	switch {
	case !c.BasicConstraintsValid || !c.IsCA:
		return &ConfigError{Field: field, Reason: subject + " is not a CA (basic constraints CA:false)",
			Fix: "give a CA certificate, for example one made by privateca.Generate"}
	case c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0:
		return &ConfigError{Field: field, Reason: subject + " lacks the certSign key usage",
			Fix: "give a CA certificate allowed to sign certificates"}
	case !allowsLeafEKUs(c.ExtKeyUsage):
		return &ConfigError{Field: field, Reason: subject + " restricts extended key usage without serverAuth and clientAuth",
			Fix: "give a CA certificate without an extended key usage, or with serverAuth and clientAuth"}
	case !now.Before(c.NotAfter):
		return &ConfigError{Field: field, Reason: fmt.Sprintf("%s expired at %s", subject, c.NotAfter.UTC().Format(time.RFC3339)),
			Fix: "give a current CA certificate, or generate a new one"}
	}
	return nil
}

// allowsLeafEKUs reports whether a CA with these extended key usages may
// issue serverAuth+clientAuth leaves (Go checks EKU nesting along the chain).
func allowsLeafEKUs(ekus []x509.ExtKeyUsage) bool {
	if len(ekus) == 0 {
		return true
	}
	var server, client bool
	for _, u := range ekus {
		switch u {
		case x509.ExtKeyUsageAny:
			return true
		case x509.ExtKeyUsageServerAuth:
			server = true
		case x509.ExtKeyUsageClientAuth:
			client = true
		}
	}
	return server && client
}
