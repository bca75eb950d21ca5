package privateca

import (
	"crypto/x509"
	"errors"
	"slices"
)

// Rotate switches the signing CA to certPEM and keyPEM, checked as
// [Config.CertPEM] and [Config.KeyPEM] are. The previous signing CA stays
// in the trust bundle, so leaves it issued keep verifying, until [CA.Untrust]
// drops it. Leaves issued before Rotate are not touched: renew them to move
// them to the new CA. Rotating to the current CA is a no-op.
func (ca *CA) Rotate(certPEM, keyPEM []byte) error {
	if len(certPEM) == 0 {
		return &ConfigError{Field: "Rotate certPEM", Reason: "empty", Fix: "give the new CA certificate PEM"}
	}
	s, err := parseSigner(certPEM, keyPEM, "Rotate certPEM", "Rotate keyPEM", ca.now())
	if err != nil {
		return err
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	old := ca.st.Load()
	ca.st.Store(newState(s, old.bundle))
	return nil
}

// Trust adds the CA certificates in certPEM to the trust bundle without
// signing with them: step one of a cluster-wide rotation, so that every
// node accepts the new CA before any node signs with it. Each certificate
// must be an unexpired CA certificate. Certificates already trusted are
// ignored.
func (ca *CA) Trust(certPEM []byte) error {
	certs, err := parseCAs(certPEM, "Trust certPEM", ca.now())
	if err != nil {
		return err
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	old := ca.st.Load()
	ca.st.Store(newState(old.signer, append(slices.Clone(old.bundle), certs...)))
	return nil
}

// ErrSigningCA is returned by [CA.Untrust] when asked to drop the CA it
// signs with: Rotate to another CA first.
var ErrSigningCA = errors.New("privateca: untrust: the certificate is the signing CA; Rotate to another CA first")

// Untrust drops cert from the trust bundle, typically the previous CA once
// every leaf it issued has been renewed. Peers presenting leaves from it
// are refused from the next handshake on. It returns [ErrSigningCA] for the
// signing CA, and nil (doing nothing) for a nil or untrusted certificate.
func (ca *CA) Untrust(cert *x509.Certificate) error {
	if cert == nil {
		return nil
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	old := ca.st.Load()
	if old.signer.cert.Equal(cert) {
		return ErrSigningCA
	}
	if !contains(old.bundle, cert) {
		return nil
	}
	keep := slices.DeleteFunc(slices.Clone(old.bundle), cert.Equal)
	ca.st.Store(newState(old.signer, keep))
	return nil
}
