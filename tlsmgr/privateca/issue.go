package privateca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"
)

// leafBackdate is how far before issuance a leaf becomes valid, to absorb
// clock skew between nodes.
const leafBackdate = time.Minute

// Issue signs a leaf certificate for names (DNS names, wildcards such as
// "*.example.com", IP addresses such as "127.0.0.1" or "::1") whose public
// key is key.Public(), and returns the chain [leaf, signing CA] as DER.
//
// The leaf has a random 128-bit serial, is valid from one minute ago until
// now plus [Config.LeafLifetime] (at most until the CA expires), carries the
// extended key usages serverAuth and clientAuth, the key usage
// digitalSignature (plus keyEncipherment for RSA keys), basic constraints
// CA:false, and the first name as subject common name. replaces is ignored.
// Invalid names give a [*NameError]. Issue is safe for concurrent use.
func (ca *CA) Issue(ctx context.Context, key crypto.Signer, names []string, replaces *x509.Certificate) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("privateca: issue: %w", err)
	}
	if key == nil {
		return nil, errors.New("privateca: issue: nil key; pass the leaf's private key")
	}
	tmpl, err := ca.leafTemplate(names)
	if err != nil {
		return nil, err
	}
	st := ca.st.Load()
	if err := ca.setValidity(tmpl, st.signer.cert); err != nil {
		return nil, err
	}
	if _, ok := key.Public().(*rsa.PublicKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, st.signer.cert, key.Public(), st.signer.key)
	if err != nil {
		return nil, fmt.Errorf("privateca: issue %v: %w", names, err)
	}
	return [][]byte{der, st.signer.cert.Raw}, nil
}

// leafTemplate builds the parts of a leaf that do not depend on the CA.
func (ca *CA) leafTemplate(names []string) (*x509.Certificate, error) {
	dns, ips, err := checkNames(names)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		DNSNames:              dns,
		IPAddresses:           ips,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	if cn := commonName(names[0]); cn != "" {
		tmpl.Subject = pkix.Name{CommonName: cn}
	}
	return tmpl, nil
}

// setValidity sets the leaf's validity inside the CA's, or fails if the CA
// has expired.
func (ca *CA) setValidity(tmpl, caCert *x509.Certificate) error {
	now := ca.now()
	if !now.Before(caCert.NotAfter) {
		return fmt.Errorf("privateca: issue: signing CA %q expired at %s; Rotate to a new CA",
			caCert.Subject.CommonName, caCert.NotAfter.UTC().Format(time.RFC3339))
	}
	tmpl.NotBefore = now.Add(-leafBackdate)
	if tmpl.NotBefore.Before(caCert.NotBefore) {
		tmpl.NotBefore = caCert.NotBefore
	}
	tmpl.NotAfter = now.Add(ca.leafLifetime)
	if tmpl.NotAfter.After(caCert.NotAfter) {
		tmpl.NotAfter = caCert.NotAfter
	}
	return nil
}
