package tlsmgr

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// KeyType names the private key algorithm of a certificate.
type KeyType string

// The key types. The zero value means [KeyP256].
const (
	KeyP256    KeyType = "p256"
	KeyP384    KeyType = "p384"
	KeyRSA2048 KeyType = "rsa2048"
	KeyRSA3072 KeyType = "rsa3072"
	KeyRSA4096 KeyType = "rsa4096"
	KeyEd25519 KeyType = "ed25519"
)

// valid reports whether k is one of the key types (not "").
func (k KeyType) valid() bool {
	return slices.Contains(certutil.KeyTypes(), certutil.KeyType(k))
}

// Defaults used when the corresponding Config field is zero.
const (
	DefaultRenewCheckInterval = 6 * time.Hour
	DefaultSkew               = 5 * time.Minute
	// DefaultStorageCheckInterval is the default StorageCheckInterval.
	DefaultStorageCheckInterval = time.Minute
)

// devNames are the names used when Config.Names is empty.
var devNames = []string{"localhost", "127.0.0.1", "::1"}

// Config configures a [Manager]. Every field is optional; the zero Config is
// development mode: a private CA stored in the user cache directory issues
// every certificate, for localhost and the loopback addresses.
type Config struct {
	// Names are the DNS names, wildcards and IP addresses of this server,
	// used by every role without its own [RoleConfig.Names]. Empty means
	// "localhost", "127.0.0.1" and "::1" (development mode).
	Names []string

	// Issuer signs the certificates of the public roles (client,
	// websocket, MQTT, leafnode accept), typically an ACME issuer. Nil means
	// the private CA signs them too.
	Issuer Issuer

	// Issuers, if not empty, are issuers for the public roles tried in
	// order: an order goes to the next one only when the previous one
	// fails (see [Fallback]). Set Issuer or Issuers, not both. Empty means
	// Issuer alone.
	Issuers []Issuer

	// PrivateCA signs the certificates of the mutual-TLS roles (cluster,
	// gateway, leafnode remote) and supplies the bundle their peers are
	// verified against. Nil means Start loads the CA stored at
	// "privateca/ca.json" in Storage, or generates one and stores it there
	// under a storage lock, so that Managers sharing a storage share the CA.
	PrivateCA RootsIssuer

	// Roles holds per-role overrides. A role without an entry uses the
	// defaults described in [RoleConfig].
	Roles map[Role]RoleConfig

	// KeyType is the key algorithm of new certificates. Zero means KeyP256.
	KeyType KeyType

	// Storage keeps certificates, keys and the private CA. Nil means a
	// [FileStorage] in the "nats-autotls" directory under
	// [os.UserCacheDir]; New resolves the directory, Start creates it.
	Storage Storage

	// Cache, if not nil, is a local copy of what this Manager serves (the
	// certificates and the private CA), for a Storage on the network such
	// as kvstorage: every certificate served is also written to Cache, and
	// when Storage cannot be reached (not a missing key, a failure) Start
	// serves from Cache instead. With a Storage whose Lock waits out an
	// outage, as kvstorage's does, nothing is ordered meanwhile. Once
	// Storage is back, the Manager adopts Storage's certificate if it is
	// newer, or writes its own back if Storage's is older or absent.
	// Nil means no cache.
	Cache Storage

	// StorageCheckInterval is how often the Manager re-reads its
	// certificates from Storage, to serve one another Manager stored: a
	// backstop for Storages that are [Watcher]s (whose watch may miss a
	// change) and the only way for the others (a FileStorage on a shared
	// volume). It also writes back what Storage lost or missed (see
	// Cache). Zero means DefaultStorageCheckInterval (1 minute).
	StorageCheckInterval time.Duration

	// Logger receives the Manager's logs. Nil means discard.
	Logger *slog.Logger

	// OnEvent, if not nil, is called for every [Event], synchronously from
	// the Manager's goroutines: it must not block long nor call back into
	// the Manager's Start, Renew or Close.
	OnEvent func(Event)

	// Clock is the time source. Nil means the system clock.
	Clock Clock

	// RefusePreviousIssuer stops a public role (client, websocket, MQTT,
	// leafnode accept) from serving, while its issuer's first certificate
	// is ordered, a valid certificate a previous public issuer issued for
	// its names (after a change of ACME directory or CA). False means such
	// a certificate is served until the new one arrives. A role never
	// serves a certificate from another issuer otherwise: never the private
	// CA's on a public role, never another CA's on a mutual-TLS role unless
	// it chains to the private CA's current bundle.
	RefusePreviousIssuer bool

	// StartInBackground makes Start return as soon as the stored
	// certificates are loaded; missing ones are obtained in the background
	// and handshakes for a role without a certificate fail until then.
	StartInBackground bool

	// RenewCheckInterval is how often an issuer giving renewal advice (ARI)
	// is asked again. Zero means DefaultRenewCheckInterval (6 hours).
	RenewCheckInterval time.Duration

	// Skew is how far in the future a new certificate's NotBefore may be and
	// still be accepted. Zero means DefaultSkew (5 minutes).
	Skew time.Duration
}

// RoleConfig overrides the defaults of one role. The zero value keeps every
// default.
type RoleConfig struct {
	// Names are the role's names. Nil means Config.Names.
	Names []string

	// Issuer signs the role's certificate. Nil means Config.Issuer for the
	// public roles (or the private CA if that is nil too) and the private
	// CA for the others.
	Issuer Issuer

	// KeyType is the role's key algorithm. Zero means Config.KeyType.
	KeyType KeyType

	// VerifyPeers makes a listener-only role (client, websocket, MQTT,
	// leafnode accept) require a client certificate and verify it against
	// the private CA's bundle, as a leafnode hub with "verify" does. Cluster
	// and gateway always verify; leafnode remote rejects it.
	VerifyPeers bool

	// PeerRoots, for RoleLeafnodeRemote only, are the roots the hub's
	// certificate is verified against. Nil means the roots of
	// Config.Issuer if it is a [RootsIssuer] (nil Roots meaning the system
	// roots), the system roots for another Config.Issuer, and the private
	// CA's bundle if Config.Issuer is nil (development mode).
	PeerRoots *x509.CertPool
}

// withDefaults validates c and returns a copy with every default filled in.
// It is the only place defaults are decided. It does no I/O besides asking
// the OS for the user cache directory.
func (c Config) withDefaults() (Config, error) {
	c.dropNilPointers()
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	if len(c.Names) == 0 {
		c.Names = devNames
	}
	c.Names = normalizeNames(c.Names)
	if c.KeyType == "" {
		c.KeyType = KeyP256
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	if len(c.Issuers) > 0 {
		f, err := NewFallback(c.Issuers...)
		if err != nil {
			return Config{}, fmt.Errorf("tlsmgr: config: Issuers: %w", err)
		}
		c.Issuer, c.Issuers = f, nil
	}
	if c.RenewCheckInterval == 0 {
		c.RenewCheckInterval = DefaultRenewCheckInterval
	}
	if c.Skew == 0 {
		c.Skew = DefaultSkew
	}
	if c.StorageCheckInterval == 0 {
		c.StorageCheckInterval = DefaultStorageCheckInterval
	}
	roles := make(map[Role]RoleConfig, len(Roles()))
	for _, r := range Roles() {
		rc := c.Roles[r]
		if len(rc.Names) == 0 {
			rc.Names = c.Names // normalized above; shared, never modified
		} else {
			rc.Names = normalizeNames(rc.Names)
		}
		if rc.KeyType == "" {
			rc.KeyType = c.KeyType
		}
		roles[r] = rc
	}
	c.Roles = roles
	if c.Storage == nil {
		dir, err := os.UserCacheDir()
		if err != nil {
			return Config{}, fmt.Errorf("tlsmgr: config: Storage is nil and the user cache directory is unknown (%w): set Config.Storage, e.g. NewFileStorage(dir)", err)
		}
		c.Storage = NewFileStorage(filepath.Join(dir, "nats-autotls"), WithStorageLogger(c.Logger))
	}
	return c, nil
}

// dropNilPointers turns interface fields that hold a nil pointer (a nil
// *acme.Issuer assigned to Issuer, say) into plain nils, so that they mean
// what the field's documentation says nil means instead of panicking when
// a method is called on them. Roles is copied, never modified.
func (c *Config) dropNilPointers() {
	if isNilValue(c.Issuer) {
		c.Issuer = nil
	}
	if isNilValue(c.PrivateCA) {
		c.PrivateCA = nil
	}
	if isNilValue(c.Storage) {
		c.Storage = nil
	}
	if isNilValue(c.Cache) {
		c.Cache = nil
	}
	if len(c.Roles) > 0 {
		roles := make(map[Role]RoleConfig, len(c.Roles))
		for r, rc := range c.Roles {
			if isNilValue(rc.Issuer) {
				rc.Issuer = nil
			}
			roles[r] = rc
		}
		c.Roles = roles
	}
}

// isNilValue reports whether v is nil or an interface holding a nil
// pointer, map, slice, func or channel.
func isNilValue(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// validate checks every field of c, naming the field, the value and the fix.
func (c Config) validate() error {
	var errs []error
	errs = append(errs, checkNames("Config.Names", c.Names))
	errs = append(errs, checkKeyType("Config.KeyType", c.KeyType))
	if c.Issuer != nil && len(c.Issuers) > 0 {
		errs = append(errs, errors.New("tlsmgr: config: both Issuer and Issuers are set: put the issuer in Issuers, in the order to try them"))
	}
	if c.RenewCheckInterval < 0 {
		errs = append(errs, fmt.Errorf("tlsmgr: config: RenewCheckInterval %v is negative: use 0 for the default (%v) or a positive duration", c.RenewCheckInterval, DefaultRenewCheckInterval))
	}
	if c.StorageCheckInterval < 0 {
		errs = append(errs, fmt.Errorf("tlsmgr: config: StorageCheckInterval %v is negative: use 0 for the default (%v) or a positive duration", c.StorageCheckInterval, DefaultStorageCheckInterval))
	}
	if c.Skew < 0 {
		errs = append(errs, fmt.Errorf("tlsmgr: config: Skew %v is negative: use 0 for the default (%v) or a positive duration", c.Skew, DefaultSkew))
	}
	for r, rc := range c.Roles {
		errs = append(errs, rc.validate(r))
	}
	return errors.Join(errs...)
}

// validate checks one role's overrides.
func (rc RoleConfig) validate(r Role) error {
	if err := r.check(); err != nil {
		return fmt.Errorf("tlsmgr: config: Roles: %w", err)
	}
	field := "Config.Roles[" + string(r) + "]"
	var errs []error
	errs = append(errs, checkNames(field+".Names", rc.Names))
	errs = append(errs, checkKeyType(field+".KeyType", rc.KeyType))
	if rc.VerifyPeers && r == RoleLeafnodeRemote {
		errs = append(errs, fmt.Errorf("tlsmgr: config: %s.VerifyPeers is true but leafnode-remote only dials: use PeerRoots to choose the hub's roots", field))
	}
	if rc.PeerRoots != nil && r != RoleLeafnodeRemote {
		errs = append(errs, fmt.Errorf("tlsmgr: config: %s.PeerRoots is set but only leafnode-remote uses it: peers of %s are verified against the private CA", field, r))
	}
	return errors.Join(errs...)
}

// checkNames reports names that cannot go in a certificate.
func checkNames(field string, names []string) error {
	for _, n := range names {
		s := strings.Trim(n, "[]")
		if net.ParseIP(s) != nil {
			continue
		}
		if !validDNSName(strings.TrimSuffix(n, ".")) {
			return fmt.Errorf("tlsmgr: config: %s: %q is neither a DNS name nor an IP address: use names such as \"nats.example.com\", \"*.example.com\" or \"10.0.0.1\"", field, n)
		}
	}
	return nil
}

// validDNSName reports whether n is a DNS name, optionally with a leading
// "*." wildcard label.
func validDNSName(n string) bool {
	n = strings.TrimPrefix(n, "*.")
	if n == "" || len(n) > 253 {
		return false
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// checkKeyType reports a key type that is neither zero nor known.
func checkKeyType(field string, k KeyType) error {
	if k == "" || k.valid() {
		return nil
	}
	return fmt.Errorf("tlsmgr: config: %s %q is unknown: use one of %v (or leave it empty for %s)", field, string(k), certutil.KeyTypes(), KeyP256)
}

// normalizeNames returns names lower-cased, without trailing dots or IP
// brackets, sorted and without duplicates, in a new slice.
func normalizeNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if ip := net.ParseIP(strings.Trim(n, "[]")); ip != nil {
			out = append(out, ip.String())
			continue
		}
		out = append(out, strings.ToLower(strings.TrimSuffix(n, ".")))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
