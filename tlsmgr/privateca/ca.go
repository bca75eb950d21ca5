package privateca

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// A CA is a private certificate authority that issues serverAuth+clientAuth
// leaves and holds the trust bundle peers are verified against. It
// implements tlsmgr.Issuer and tlsmgr.RootsIssuer. Make one with [New].
//
// A CA is safe for concurrent use. Issue and the getters read an immutable
// snapshot through an atomic pointer and take no lock; Rotate, Trust and
// Untrust replace the snapshot.
type CA struct {
	now          func() time.Time
	leafLifetime time.Duration

	// mu serialises the writers of st (Rotate, Trust, Untrust); readers do
	// not take it.
	mu sync.Mutex
	st atomic.Pointer[state]
}

// state is one immutable snapshot of a CA: its signing CA and trust bundle.
type state struct {
	signer    *signer
	issuerKey string
	bundle    []*x509.Certificate // signing CA first, then the others trusted
	pool      *x509.CertPool      // bundle as a pool; never modified once stored
	bundlePEM []byte
}

// New returns a CA configured by cfg. With cfg.CertPEM nil it generates a
// fresh CA (see [Config]); otherwise it checks that CertPEM is an unexpired
// CA certificate and KeyPEM its private key. Errors are [*ConfigError]s
// naming the field.
func New(cfg Config) (*CA, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	now := cfg.Now()
	s, err := newSigner(cfg, now)
	if err != nil {
		return nil, err
	}
	var trusted []*x509.Certificate
	for i, p := range cfg.Trust {
		certs, err := parseCAs(p, fmt.Sprintf("Config.Trust[%d]", i), now)
		if err != nil {
			return nil, err
		}
		trusted = append(trusted, certs...)
	}
	ca := &CA{now: cfg.Now, leafLifetime: cfg.LeafLifetime}
	ca.st.Store(newState(s, trusted))
	return ca, nil
}

// newSigner generates the signing CA or parses the configured one.
func newSigner(cfg Config, now time.Time) (*signer, error) {
	if len(cfg.CertPEM) == 0 {
		if len(cfg.KeyPEM) != 0 {
			return nil, &ConfigError{Field: "Config.KeyPEM", Reason: "set without Config.CertPEM",
				Fix: "give the CA certificate in Config.CertPEM too, or neither to generate a CA"}
		}
		return generate(cfg.Name, cfg.CALifetime, now)
	}
	return parseSigner(cfg.CertPEM, cfg.KeyPEM, "Config.CertPEM", "Config.KeyPEM", now)
}

// newState builds a snapshot signing with s and trusting s and others;
// duplicates are dropped.
func newState(s *signer, others []*x509.Certificate) *state {
	st := &state{signer: s, issuerKey: issuerKey(s.cert), pool: x509.NewCertPool()}
	for _, c := range append([]*x509.Certificate{s.cert}, others...) {
		if contains(st.bundle, c) {
			continue
		}
		st.bundle = append(st.bundle, c)
		st.pool.AddCert(c)
		st.bundlePEM = append(st.bundlePEM, certutil.EncodeChain([][]byte{c.Raw})...)
	}
	return st
}

// issuerKey names the issuer after the signing CA's public key.
func issuerKey(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return "privateca-" + hex.EncodeToString(sum[:8])
}

func contains(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range certs {
		if x.Equal(c) {
			return true
		}
	}
	return false
}

// IssuerKey returns "privateca-" and the first 16 hex digits of the SHA-256
// of the signing CA's public key. It changes when [CA.Rotate] switches to a
// CA with another key.
func (ca *CA) IssuerKey() string { return ca.st.Load().issuerKey }

// Roots returns the current trust bundle: the signing CA, [Config.Trust],
// CAs added by [CA.Trust] and CAs rotated out but not yet untrusted. It
// neither locks nor allocates, so it suits a per-handshake callback. The
// pool is shared: callers must not modify it. After a Rotate, Trust or
// Untrust, Roots returns a new pool; earlier pools are left unchanged.
func (ca *CA) Roots() *x509.CertPool { return ca.st.Load().pool }

// Certificate returns the signing CA certificate. Callers must not modify it.
func (ca *CA) Certificate() *x509.Certificate { return ca.st.Load().signer.cert }

// CertPEM returns the signing CA certificate as PEM, to persist or to give
// to the other nodes as [Config.CertPEM].
func (ca *CA) CertPEM() []byte { return clone(ca.st.Load().signer.certPEM) }

// KeyPEM returns the signing CA's private key as a PKCS #8 PEM block, to
// persist as [Config.KeyPEM]. Keep it secret: store it with mode 0600.
func (ca *CA) KeyPEM() ([]byte, error) {
	b, err := certutil.EncodeKey(ca.st.Load().signer.key)
	if err != nil {
		return nil, fmt.Errorf("privateca: %w", err)
	}
	return b, nil
}

// BundlePEM returns every trusted CA certificate as PEM, signing CA first:
// the file that peers and clients outside the process should trust.
func (ca *CA) BundlePEM() []byte { return clone(ca.st.Load().bundlePEM) }

func clone(b []byte) []byte { return append([]byte(nil), b...) }
