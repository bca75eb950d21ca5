// Package acme obtains certificates from any RFC 8555 (ACME) certificate
// authority: Let's Encrypt, ZeroSSL, Google Trust Services, step-ca,
// Pebble. It is built on lego v4, and is the only package of this module
// that imports lego; no lego type appears in its API.
//
// An [Issuer] implements tlsmgr's Issuer, RootsIssuer and RenewalAdvisor
// interfaces, so a tlsmgr.Manager can use it, and it works alone.
//
// # Obtaining a certificate
//
//	iss, err := acme.New(acme.Config{
//		Email:    "ops@example.com",
//		AgreeTOS: true,
//		Storage:  acme.DirStorage("/var/lib/nats-autotls"),
//		DNS01:    &acme.DNS01{Provider: cloudflareProvider}, // any libdns provider
//	})
//	cert, err := iss.Obtain(ctx, []string{"nats.example.com", "*.nats.example.com"})
//	// cert.CertPEM(), cert.KeyPEM(), cert.Leaf.NotAfter
//
// [New] only checks the configuration (a *[ConfigError] names the field,
// the value and the fix). The first order fetches the directory, checks
// the profile against those the CA offers, and registers an ECDSA P-256
// account, or reuses the one kept in [Config.Storage] under
// "acme/<IssuerKey>/<email or default>/account.json".
// [Issuer.Issue] is the tlsmgr entry point: it certifies a key the caller
// owns and can name the certificate it replaces (ARI "replaces").
//
// # Solving challenges
//
// DNS-01 is the only challenge that proves wildcard names. [DNS01.Provider]
// takes any libdns provider: the solver follows CNAMEs from
// _acme-challenge.<name> (delegation to another zone), finds the zone by
// SOA unless [DNS01.Zone] is given, appends one TXT value per challenge
// (a name and its wildcard share one record name) and deletes exactly that
// value afterwards. [DNS01.Lego] takes any lego provider instead.
// [HTTP01] listens on port 80 (or [HTTP01.Addr]) while a challenge is
// pending; it cannot prove wildcards but can prove IP addresses, which Let's
// Encrypt certifies only under the "shortlived" profile.
//
// # Cancellation and deadlines
//
// lego takes no context, so each order runs in its own goroutine. When the
// caller's context ends, Issue and Obtain return at once with the
// context's error; the order's challenge records are deleted in the
// background, lego's later attempts to present challenges are refused, its
// propagation wait stops, and its own clean-up finds nothing left to do.
// Orders of one Issuer run one at a time, and the next one waits until the
// abandoned one is over.
//
// Every external step is bounded by a share of [Config.OrderTimeout]
// (default [DefaultOrderTimeout], 10 minutes): each ACME request (through
// the HTTP client's transport, which carries the order's context into
// lego), each DNS provider call (a provider that never returns, even one
// that ignores its context, is abandoned and the order fails naming the
// step), each DNS query and propagation check, and the wait between two
// polls of the CA (a CA's polling hint, Retry-After on a pending challenge,
// is shortened to it). An order past the timeout fails with a
// *[TimeoutError] naming the step it was in; an abandoned order's
// goroutine ends within one request or poll interval.
//
// # Renewal information
//
// [Issuer.RenewalWindow] asks the CA when to renew (ARI, RFC 9773). It
// checks the HTTP status (lego does not) and reports a zero or inverted
// window as no advice. Renew with [Issuer.Issue] and the old certificate
// as replaces: Let's Encrypt exempts such renewals from rate limits.
//
// # Errors
//
// Errors can be inspected with [errors.As]: *[RateLimitError] (HTTP 429,
// with the time the CA allows the next attempt), *[UnreachableError] (no
// answer, or HTTP 5xx: a 503's Retry-After gives the time of the next
// attempt), *[ValidationError] (the CA could not validate a name),
// *[ConfigError] (including a CA that requires External Account Binding
// or does not offer the profile) and *[TimeoutError]. Both retry times are
// read from Retry-After (delay-seconds or HTTP-date) without overflow,
// counted from [Config.Clock], clamped to [MaxRetryAfter], and returned by
// a RetryAt method that tlsmgr uses as a floor for the next attempt.
// Errors never contain account keys, MAC keys, tokens or key
// authorizations.
//
// # Process-wide state
//
// lego v4 keeps some settings in package variables, shared by every
// Issuer of a process. This package writes each at most once per process,
// in one place (globals.go), before any order can read it: no lock is held
// across a network wait and no Issuer ever waits for another's order.
//
//   - Its logger. The first [New] routes lego's log lines to
//     [log/slog.Default] at debug level (attribute component=lego), once;
//     Config.Logger receives this package's own messages.
//   - The dns-01 recursive resolvers. The first Issuer with DNS01 in the
//     process sets them to its [DNS01.Resolvers] (or leaves lego's
//     default, /etc/resolv.conf), never to change again. This package does
//     not depend on them: each Issuer follows CNAMEs, finds zones and
//     checks propagation with its own Resolvers, with contexts and
//     deadlines. Only lego's own CNAME lookup before the propagation check
//     (whose answer is ignored) and a [DNS01.Lego] provider's own zone
//     lookups use lego's; an Issuer whose lego provider would need other
//     resolvers than those logs a warning.
//   - lego's dns-01 query timeout (10 s) and SOA cache, left as they are.
//
// Per-Issuer: the authoritative propagation check
// ([DNS01.SkipAuthoritativeCheck] checks on the Resolvers instead),
// [DNS01.PropagationTimeout] and [DNS01.PollingInterval]. lego's
// client-side request limit (18 requests a second, which makes it sleep
// before each authorization request) is raised to 1000: CAs enforce their
// own limits. Environment variables read by lego
// (LEGO_EXPERIMENTAL_DNS_TCP_ONLY) still apply to its own lookups.
package acme
