package tlsmgr

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// A ValidationError reports why a certificate was refused: it is neither
// served nor stored. Events of type [EventRejected] carry one.
type ValidationError struct {
	Names  []string // the names the certificate was meant for
	Reason string   // what is wrong, e.g. "missing SAN nats.example.com"
	Err    error    // the underlying error, if any
}

// Error describes the refusal.
func (e *ValidationError) Error() string {
	msg := fmt.Sprintf("tlsmgr: certificate for %s refused: %s", strings.Join(e.Names, ","), e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *ValidationError) Unwrap() error { return e.Err }

// checkSpec is what a certificate must satisfy.
type checkSpec struct {
	names      []string
	keyType    KeyType
	clientAuth bool           // the certificate is also presented as a TLS client
	roots      *x509.CertPool // nil: the chain's own last certificate
	now        time.Time
	skew       time.Duration
}

// validate checks v against spec: key matches leaf, chain verifies, SANs
// cover every name, the EKU fits, and the validity period includes now.
func validate(v *certVersion, spec checkSpec) error {
	fail := func(reason string, err error) error {
		return &ValidationError{Names: spec.names, Reason: reason, Err: err}
	}
	chain, err := v.parsedChain()
	if err != nil {
		return fail("unparsable chain", err)
	}
	leaf := chain[0]
	key, ok := v.cert.PrivateKey.(crypto.Signer)
	if !ok || !certutil.KeyMatches(key, leaf.PublicKey) {
		return fail("private key does not match the certificate", nil)
	}
	if spec.keyType != "" && v.keyType != spec.keyType {
		return fail(fmt.Sprintf("key type %s, want %s", v.keyType, spec.keyType), nil)
	}
	for _, n := range spec.names {
		if !certutil.Covers(leaf, n) {
			return fail("missing SAN "+n, nil)
		}
	}
	if err := checkValidity(leaf, spec.now, spec.skew); err != nil {
		return fail(err.Error(), nil)
	}
	if err := checkEKU(leaf, spec.clientAuth); err != nil {
		return fail(err.Error(), nil)
	}
	if err := verifyChain(chain, spec); err != nil {
		return fail("chain does not verify", err)
	}
	return nil
}

// checkValidity refuses an expired certificate and one whose NotBefore is
// more than skew in the future.
func checkValidity(leaf *x509.Certificate, now time.Time, skew time.Duration) error {
	if !now.Before(leaf.NotAfter) {
		return fmt.Errorf("expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if leaf.NotBefore.After(now.Add(skew)) {
		return fmt.Errorf("not valid before %s, more than %v from now", leaf.NotBefore.UTC().Format(time.RFC3339), skew)
	}
	return nil
}

// checkEKU requires serverAuth, and clientAuth when the certificate is also
// used to dial. An empty EKU list allows any use.
func checkEKU(leaf *x509.Certificate, clientAuth bool) error {
	if len(leaf.ExtKeyUsage) == 0 && len(leaf.UnknownExtKeyUsage) == 0 {
		return nil
	}
	if !hasEKU(leaf, x509.ExtKeyUsageServerAuth) {
		return fmt.Errorf("no serverAuth extended key usage")
	}
	if clientAuth && !hasEKU(leaf, x509.ExtKeyUsageClientAuth) {
		return fmt.Errorf("no clientAuth extended key usage, needed to dial peers (public CAs no longer issue it: use the private CA for this role)")
	}
	return nil
}

// hasEKU reports whether leaf allows usage u.
func hasEKU(leaf *x509.Certificate, u x509.ExtKeyUsage) bool {
	for _, x := range leaf.ExtKeyUsage {
		if x == u || x == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// verifyChain verifies chain to spec.roots, or to its own last certificate
// when roots is nil, at a time inside the accepted validity period.
func verifyChain(chain []*x509.Certificate, spec checkSpec) error {
	roots := spec.roots
	if roots == nil {
		roots = x509.NewCertPool()
		roots.AddCert(chain[len(chain)-1])
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	at := spec.now
	if chain[0].NotBefore.After(at) {
		at = chain[0].NotBefore // within skew, checked before
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	return err
}
