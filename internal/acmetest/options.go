package acmetest

import (
	"fmt"
	"io"
	"time"

	"github.com/nats-autotls/autotls/internal/dnstest"
)

// Options configures a test CA. The zero value is a fast, well-behaved CA
// without External Account Binding.
type Options struct {
	// EAB maps key IDs to base64url-encoded HMAC keys. Non-empty means
	// External Account Binding is required for new accounts.
	EAB map[string]string

	// Profiles are the certificate profiles offered in the directory. If
	// nil: "default" (90 days), "shortlived" (160 hours) and "tlsserver"
	// (45 days). An order that names no profile gets "default" when such a
	// profile exists, otherwise Pebble's random pick.
	Profiles map[string]Profile

	// NonceRejectPercent is the share of valid nonces Pebble rejects as bad
	// (0 to 100). Zero means none (Pebble's own default is 5).
	NonceRejectPercent int

	// Zones are the DNS zones served for this CA. If nil: "example.test."
	// and "delegated.test.".
	Zones []string

	// DNS is the DNS server Pebble's validation authority queries. If nil,
	// the server shared by the whole test binary (see [SharedDNS]), with
	// Zones added to it.
	DNS *dnstest.Server

	// AlternateRoots is the number of extra root certificates (alternate
	// chains) Pebble creates. Zero means none.
	AlternateRoots int

	// ChainLength is the number of intermediates between the root and the
	// leaf. Zero means one.
	ChainLength int

	// KeyAlgorithm is the CA's key algorithm, "ecdsa" or "rsa". Empty means
	// "ecdsa" (much faster to generate than "rsa").
	KeyAlgorithm string

	// PebbleLog receives Pebble's log. Nil means discard.
	PebbleLog io.Writer
}

// Profile is a certificate profile offered by the test CA.
type Profile struct {
	// Description is shown in the directory's meta.profiles.
	Description string
	// Validity is the lifetime of certificates issued under this profile.
	// Zero or negative means Pebble's default (5 years).
	Validity time.Duration
}

// DefaultProfiles returns the profiles used when Options.Profiles is nil,
// mirroring Let's Encrypt's.
func DefaultProfiles() map[string]Profile {
	return map[string]Profile{
		"default":    {Description: "The default profile (90 days)", Validity: 90 * 24 * time.Hour},
		"shortlived": {Description: "Short-lived certificates (160 hours)", Validity: 160 * time.Hour},
		"tlsserver":  {Description: "TLS server certificates (45 days)", Validity: 45 * 24 * time.Hour},
	}
}

// defaultZones are the zones served when Options.Zones is nil.
var defaultZones = []string{"example.test.", "delegated.test."}

// withDefaults validates o and returns a copy with defaults filled in.
func (o Options) withDefaults() (Options, error) {
	if o.NonceRejectPercent < 0 || o.NonceRejectPercent > 100 {
		return o, fmt.Errorf("acmetest: Options.NonceRejectPercent %d: must be between 0 and 100", o.NonceRejectPercent)
	}
	if o.AlternateRoots < 0 || o.ChainLength < 0 {
		return o, fmt.Errorf("acmetest: Options.AlternateRoots %d, ChainLength %d: must not be negative", o.AlternateRoots, o.ChainLength)
	}
	switch o.KeyAlgorithm {
	case "":
		o.KeyAlgorithm = "ecdsa"
	case "ecdsa", "rsa":
	default:
		return o, fmt.Errorf("acmetest: Options.KeyAlgorithm %q: use \"ecdsa\", \"rsa\" or empty", o.KeyAlgorithm)
	}
	if o.ChainLength == 0 {
		o.ChainLength = 1
	}
	if o.Profiles == nil {
		o.Profiles = DefaultProfiles()
	}
	if len(o.Profiles) == 0 {
		return o, fmt.Errorf("acmetest: Options.Profiles: empty map; use nil for the defaults")
	}
	if o.Zones == nil {
		o.Zones = defaultZones
	}
	if o.PebbleLog == nil {
		o.PebbleLog = io.Discard
	}
	return o, nil
}
