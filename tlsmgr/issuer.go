package tlsmgr

import (
	"context"
	"crypto"
	"crypto/x509"
	"time"
)

// An Issuer signs certificates: an ACME CA ([github.com/nats-autotls/autotls/acme.Issuer]),
// the private CA ([github.com/nats-autotls/autotls/tlsmgr/privateca.CA]), or
// anything else (a Vault PKI, step-ca, a test issuer). Its methods use only
// standard-library types, so an issuer package need not import tlsmgr.
//
// Implementations must be safe for concurrent use.
type Issuer interface {
	// Issue obtains a certificate for names (DNS names, wildcards or IP
	// addresses) whose public key is key.Public(). It returns the chain as
	// DER, leaf first. replaces, if not nil, is the certificate this one
	// renews (ACME sends it as the ARI "replaces" field); issuers may ignore
	// it. Issue must return promptly when ctx ends.
	Issue(ctx context.Context, key crypto.Signer, names []string, replaces *x509.Certificate) ([][]byte, error)

	// IssuerKey identifies the issuer in storage keys and status: two issuers
	// with the same key issue interchangeable certificates (for ACME, the
	// same directory). It must be a short string safe in a file name.
	IssuerKey() string
}

// A RootsIssuer is an [Issuer] that knows the roots its certificates chain
// to. The Manager verifies every new certificate from it against Roots, and
// for the mutual-TLS roles verifies peers against Roots at each handshake,
// so Roots must return the current bundle (old and new CA while a CA
// rotates) and may change from call to call. Roots may return nil, meaning
// "no opinion": the Manager then checks that the chain verifies to its own
// last certificate.
type RootsIssuer interface {
	Issuer
	Roots() *x509.CertPool
}

// A RenewalAdvisor is an [Issuer] that tells when a certificate should be
// renewed, as ACME Renewal Information (RFC 9773) does.
type RenewalAdvisor interface {
	Issuer
	// RenewalWindow returns the window in which the CA wants leaf renewed
	// and when to ask again. A zero window means no advice.
	RenewalWindow(ctx context.Context, leaf *x509.Certificate) (start, end time.Time, retryAfter time.Duration, err error)
}
