package tlsmgr

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// storedFormat is the version of the stored certificate bundle.
const storedFormat = 1

// certPrefix is where certificates live in Storage.
const certPrefix = "certificates/"

// storedCert is the one value stored per certificate: the chain, its key and
// its renewal state together, so a certificate is never without its key.
type storedCert struct {
	Format    int        `json:"format"`
	Names     []string   `json:"names"`
	KeyType   KeyType    `json:"key_type"`
	IssuerKey string     `json:"issuer_key"`
	ChainPEM  string     `json:"chain_pem"`
	KeyPEM    string     `json:"key_pem"`
	Renewal   renewState `json:"renewal"`
	// Public is true for a certificate issued for roles whose issuer is
	// not the private CA: after a change of issuer it may be served until
	// the new issuer's certificate arrives (see Config.RefusePreviousIssuer).
	Public bool `json:"public,omitempty"`
}

// failurePrefix is where the renewal state of a slot without a certificate
// from its issuer is stored.
const failurePrefix = "renewal/"

// storedFailure is the renewal state of a slot that has no certificate
// from its issuer, so that failures, backoff and Retry-After survive a
// restart without a certificate to keep them with.
type storedFailure struct {
	Format  int        `json:"format"`
	Renewal renewState `json:"renewal"`
}

// failureKey returns where the failure state of slot id with issuerKey is
// stored.
func failureKey(issuerKey, id string) string {
	return failurePrefix + sanitize(issuerKey) + "/" + id + ".json"
}

// renewState is what the renewal schedule remembers about a certificate.
type renewState struct {
	// ARIStart and ARIEnd are the last renewal window the issuer advised;
	// zero if none.
	ARIStart time.Time `json:"ari_start,omitzero"`
	ARIEnd   time.Time `json:"ari_end,omitzero"`
	// ARIChosen is the time picked at random in the window, once.
	ARIChosen time.Time `json:"ari_chosen,omitzero"`
	// NextCheck is when to ask the issuer for advice again.
	NextCheck time.Time `json:"next_check,omitzero"`
	// Failures counts consecutive failed attempts since the last success.
	Failures    int       `json:"failures,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	// NextAttempt is when the attempt after the last failure is due,
	// chosen once (with jitter, bounded by the validity left, never before
	// RetryAt) when that failure happened.
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// Issued is when this certificate was obtained; the next order waits
	// at least backoffFirst after it, even if the new certificate is
	// already due.
	Issued time.Time `json:"issued,omitzero"`
	// RetryAt is the issuer's Retry-After, a floor for the next attempt,
	// clamped to MaxRetryAfter after the failure.
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// certVersion is one immutable certificate as served.
type certVersion struct {
	cert      *tls.Certificate // Leaf set; the whole chain, as stored
	table     *certTable       // what handshakes read, built once with v
	keyType   KeyType
	issuerKey string
	// replaced is closed when a newer version replaces this one.
	replaced chan struct{}
}

// storageKey returns where the certificate for id from issuerKey is stored.
func storageKey(issuerKey, id string) string {
	return certPrefix + sanitize(issuerKey) + "/" + id + ".json"
}

// nameSetID identifies a sorted name set: the first name made safe for a
// file name, then a short hash of the whole set.
func nameSetID(names []string) string {
	sum := sha256.Sum256([]byte(strings.Join(names, "\n")))
	first := "none"
	if len(names) > 0 {
		first = sanitize(strings.Replace(names[0], "*", "wildcard", 1))
	}
	return first + "-" + hex.EncodeToString(sum[:6])
}

// sanitize keeps letters, digits, '.', '-' and '_' and maps the rest to '_'.
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' {
		return "_" + string(b)
	}
	return string(b)
}

// encodeStored builds the stored value for a certificate.
func encodeStored(names []string, v *certVersion, st renewState, public bool) ([]byte, error) {
	key, ok := v.cert.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T is not a signer", v.cert.PrivateKey)
	}
	keyPEM, err := certutil.EncodeKey(key)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(storedCert{
		Format:    storedFormat,
		Names:     names,
		KeyType:   v.keyType,
		IssuerKey: v.issuerKey,
		ChainPEM:  string(certutil.EncodeChain(v.cert.Certificate)),
		KeyPEM:    string(keyPEM),
		Renewal:   st,
		Public:    public,
	}, "", "  ")
}

// decodeStored parses a stored value into a certificate version and its
// renewal state. Its errors never quote the key.
func decodeStored(data []byte) (*certVersion, *storedCert, error) {
	var sc storedCert
	if err := json.Unmarshal(data, &sc); err != nil {
		return nil, nil, fmt.Errorf("corrupt certificate bundle: %w", err)
	}
	if sc.Format != storedFormat {
		return nil, nil, fmt.Errorf("certificate bundle format %d: this version reads format %d", sc.Format, storedFormat)
	}
	chain, err := certutil.DecodeChain([]byte(sc.ChainPEM))
	if err != nil {
		return nil, nil, fmt.Errorf("corrupt certificate chain: %w", err)
	}
	key, err := certutil.DecodeKey([]byte(sc.KeyPEM))
	if err != nil {
		return nil, nil, fmt.Errorf("corrupt private key: %w", err)
	}
	v, err := newVersion(chain, key, sc.IssuerKey)
	if err != nil {
		return nil, nil, err
	}
	return v, &sc, nil
}

// newVersion builds a certificate version from a DER chain and its key.
func newVersion(chain [][]byte, key crypto.Signer, issuerKey string) (*certVersion, error) {
	cert, err := certutil.TLSCertificate(chain, key)
	if err != nil {
		return nil, fmt.Errorf("corrupt certificate: %w", err)
	}
	return &certVersion{
		cert:      cert,
		table:     newCertTable(servedCert(cert)),
		keyType:   KeyType(certutil.KeyTypeOf(key.Public())),
		issuerKey: issuerKey,
		replaced:  make(chan struct{}),
	}, nil
}

// parsedChain returns the parsed certificates of v's chain.
func (v *certVersion) parsedChain() ([]*x509.Certificate, error) {
	return certutil.ParseChain(v.cert.Certificate)
}
