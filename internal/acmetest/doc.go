// Package acmetest runs an in-process Pebble ACME server (v2.10.1) on
// loopback, with the DNS server its validation authority queries, for
// tests and benchmarks. Nothing leaves 127.0.0.1.
//
// # Starting a CA
//
//	func TestObtain(t *testing.T) {
//		c := acmetest.New(t, acmetest.Options{})
//		// c.DirectoryURL   https://127.0.0.1:port/dir
//		// c.HTTPClient     trusts the directory's HTTPS certificate
//		// c.DirectoryRoots the same trust as an *x509.CertPool
//		// c.DNS            the DNS server to use as lego's recursive resolver
//		// c.HTTPPort       where an http-01 solver must listen on 127.0.0.1
//		...
//		pool := c.Roots(t) // Pebble's issuance roots, to verify issued chains
//	}
//
// New registers the shutdown with t.Cleanup. Every CA has fresh roots.
//
// # Speed
//
// Pebble is tuned for speed (no validation sleeps, no authorization reuse,
// no rejected nonces unless asked), and a front handler holds a challenge
// response back until Pebble has validated the challenge, and a finalize
// response until the certificate is issued. lego's first poll therefore
// sees the result and never takes its 5-second wait. One order with two
// DNS-01 authorizations takes tens of milliseconds.
//
// # DNS
//
// lego keeps its recursive nameservers in package variables, so every CA
// of a test binary uses one DNS server, [SharedDNS], unless Options.DNS
// names another. Set lego's resolver once per binary to c.DNS.Addr() with
// dns01.AddRecursiveNameservers and
// dns01.DisableAuthoritativeNssPropagationRequirement (the authoritative
// check dials port 53). Publish DNS-01 records through c.DNS.Provider().
// Tests share the server, so give each test its own names.
//
// # Profiles
//
// The directory offers "default" (90 days), "shortlived" (160 hours) and
// "tlsserver" (45 days); an order naming no profile gets "default".
// Issued certificates carry serverAuth only and no common name, like Let's
// Encrypt's.
//
// # Fault knobs and counters
//
//   - [CA.RateLimitNextOrders]: 429 rateLimited with Retry-After.
//   - [CA.SetDown]: connections closed without an answer.
//   - [CA.RenewNow], [CA.SetRenewalWindow]: the ARI answer for a certificate.
//   - Options.NonceRejectPercent: Pebble rejects that share of nonces.
//   - [CA.Orders], [CA.NewAccounts], [CA.BadNonces]: requests that reached
//     Pebble; [CA.Replaced]: whether an ARI replacement was recorded.
//
// # Concurrency
//
// A CA is safe for concurrent use. New sets Pebble's environment variables
// while it constructs Pebble, under a package mutex, and restores them.
// Pebble's validation authority keeps one goroutine per CA that cannot be
// stopped; every other goroutine ends with the test's cleanup.
package acmetest
