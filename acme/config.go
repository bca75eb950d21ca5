package acme

import (
	"crypto/x509"
	"log/slog"
	"net/http"
	"time"

	"github.com/libdns/libdns"
)

// LetsEncrypt is the directory URL of Let's Encrypt's production CA.
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// LetsEncryptStaging is the directory URL of Let's Encrypt's staging CA,
// whose certificates are not trusted by browsers; use it to test.
const LetsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory"

// Config configures an [Issuer]. Only AgreeTOS and one solver (DNS01 or
// HTTP01) are required; every other field has a usable zero value. [New]
// copies the Config: changing it afterwards has no effect.
type Config struct {
	// DirectoryURL is the ACME directory of the CA, an https URL.
	// Empty means [LetsEncrypt].
	DirectoryURL string

	// Email is the account's contact address. Empty means no contact: the
	// CA cannot warn you about problems with your certificates.
	Email string

	// AgreeTOS must be true: it states that you agree to the CA's terms of
	// service, which registering an account requires. New fails otherwise.
	AgreeTOS bool

	// EAB is the External Account Binding some CAs (ZeroSSL, Google Trust
	// Services, most commercial CAs) require to register an account. Nil
	// means none.
	EAB *ExternalAccountBinding

	// Storage keeps the account key and registration so that a restart
	// reuses the account. [DirStorage] stores them in a directory, and a
	// tlsmgr.Storage fits as is. Nil means a new account in every process
	// (logged at warn level): CAs limit new accounts, so set it in
	// production.
	Storage Storage

	// DirectoryRoots are extra roots trusted for the directory's HTTPS
	// certificate (a private CA, Pebble). Nil means the system roots.
	// Ignored when HTTPClient is set.
	DirectoryRoots *x509.CertPool

	// HTTPClient talks to the CA. Nil means a client with sensible
	// timeouts trusting the system roots, or DirectoryRoots when set.
	HTTPClient *http.Client

	// CARoots are the roots that certificates issued by this CA chain to,
	// returned by [Issuer.Roots] so that callers can verify new
	// certificates. Nil means no opinion.
	CARoots *x509.CertPool

	// KeyType is the type of the keys [Issuer.Obtain] generates. Empty
	// means [KeyP256]. [Issuer.Issue] uses the key it is given.
	KeyType KeyType

	// Profile names the ACME profile to order (Let's Encrypt: "classic",
	// "tlsserver", "shortlived"). Empty means the CA's default. The first
	// order fails with a *ConfigError if the directory lists profiles and
	// this is not one of them.
	Profile string

	// PreferredChain selects, by the common name of its root, an alternate
	// chain the CA offers. Empty means the CA's default chain.
	PreferredChain string

	// Lifetime asks for certificates valid for this long (the order's
	// notAfter). Zero means the CA's default; many CAs reject any other
	// value.
	Lifetime time.Duration

	// DNS01 solves dns-01 challenges, the only kind that proves wildcard
	// names. At least one of DNS01 and HTTP01 must be set; when both are,
	// http-01 is preferred for the names the CA offers it for.
	DNS01 *DNS01

	// TLSALPN01 answers tls-alpn-01 challenges on the TLS listeners of
	// the tlsmgr.Manager using this Issuer (see [TLSALPN01]). Nil means
	// off.
	TLSALPN01 *TLSALPN01

	// DNSPersist01 proves DNS names with one TXT record per name,
	// published once (dns-persist-01): orders need no DNS write and no
	// DNS credentials. Nil means off.
	DNSPersist01 *DNSPersist01

	// HTTP01 solves http-01 challenges by listening on port 80 (or Addr)
	// while a challenge is pending.
	HTTP01 *HTTP01

	// OrderTimeout bounds one order, from its first request to the issued
	// certificate, and every step in it gets a share (T is OrderTimeout):
	// one ACME request T/10, one DNS provider call T/4 (Present or
	// CleanUp; one that never returns is abandoned and fails the order
	// with an error naming the step), the propagation wait of one
	// challenge T/2 (and at most DNS01.PropagationTimeout), one DNS query
	// T/60 (at most 10 s), and the wait between two polls of the CA T/60
	// (at least 1 s: a CA's longer Retry-After on a pending challenge is
	// shortened to it). An order still running at T fails with a
	// *TimeoutError naming its step. Zero means [DefaultOrderTimeout]
	// (10 minutes).
	OrderTimeout time.Duration

	// Clock tells the time the CA's Retry-After is counted from
	// ([RateLimitError.RetryAfter], [UnreachableError.RetryAfter]). Nil
	// means the system clock; a tlsmgr.Clock fits. Deadlines of network
	// steps always use the system clock.
	Clock Clock

	// Logger receives order start and finish at info level and details at
	// debug level; it never receives keys, HMACs, tokens or key
	// authorizations. Nil means discard.
	Logger *slog.Logger
}

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// ExternalAccountBinding binds the new ACME account to an account you
// hold at the CA (RFC 8555 section 7.3.4).
type ExternalAccountBinding struct {
	// KeyID is the key identifier the CA gave you.
	KeyID string
	// HMACKey is the MAC key the CA gave you, base64url-encoded (padding
	// optional). It never appears in errors or logs.
	HMACKey string
}

// DNS01 configures the dns-01 solver: set exactly one of Provider and
// Lego.
type DNS01 struct {
	// Provider edits the zone through a libdns provider. The solver
	// appends one TXT record per challenge and deletes exactly that record
	// afterwards, so the apex and the wildcard of a zone can be validated
	// at once.
	Provider LibDNSProvider

	// Lego is any lego DNS provider (its challenge.Provider method set).
	Lego LegoProvider

	// Zone is the zone the records are written in, for Provider. Empty
	// means the zone found by an SOA lookup of the record's name.
	Zone string

	// Resolvers are the recursive resolvers ("host" or "host:port") this
	// Issuer follows CNAMEs, finds zones and checks propagation with.
	// Empty means those of /etc/resolv.conf. Issuers with different
	// Resolvers work side by side; a Lego provider's own lookups use
	// lego's process-wide resolvers: see "Process-wide state" in the
	// package documentation.
	Resolvers []string

	// PropagationTimeout bounds the wait for the record to be visible; it
	// is at most half of Config.OrderTimeout.
	// Zero means the Lego provider's own timeout, or 60 s.
	PropagationTimeout time.Duration

	// PollingInterval is the pause before and between propagation checks.
	// Zero means the Lego provider's own interval, or 2 s.
	PollingInterval time.Duration

	// SkipAuthoritativeCheck checks propagation on Resolvers only instead
	// of on every authoritative server of the zone (which are always
	// queried on port 53). Set it for a private or test DNS server.
	SkipAuthoritativeCheck bool
}

// LibDNSProvider is a libdns provider able to add and delete records, as
// almost every libdns provider is.
type LibDNSProvider interface {
	libdns.RecordAppender
	libdns.RecordDeleter
}

// LegoProvider is the method set of lego's challenge.Provider, declared
// here so that every lego DNS provider plugs in without this package's API
// naming a lego type. If it also has lego's Timeout method, that gives the
// propagation defaults.
type LegoProvider interface {
	Present(domain, token, keyAuth string) error
	CleanUp(domain, token, keyAuth string) error
}

// HTTP01 configures the http-01 solver.
type HTTP01 struct {
	// Addr is the address to listen on while a challenge is pending.
	// Empty means ":80", where CAs connect. Ignored when Storage is set.
	Addr string

	// Storage, if not nil, shares challenges with a fleet behind one
	// address: the solver writes each token to Storage (under
	// "acme/http-01/") instead of listening, and every node answers the CA
	// from Storage with [HTTP01Responder] on its port 80, so that
	// validation succeeds whichever node the CA reaches. Nil means the
	// solver listens on Addr while a challenge is pending, and only the
	// node that placed the order can answer.
	Storage ChallengeStorage
}
