// Package privateca is a small private certificate authority for NATS
// servers. Its leaves carry both the serverAuth and the clientAuth extended
// key usage, which public CAs stopped issuing in 2026 and which NATS cluster
// routes, gateways and leafnode remotes need, since they authenticate both
// ends with mutual TLS. It is also the zero-configuration default for
// development: a fresh CA issuing certificates for localhost, 127.0.0.1
// and ::1.
//
// A [*CA] implements tlsmgr.Issuer and tlsmgr.RootsIssuer without importing
// tlsmgr: tlsmgr uses it as its default issuer.
//
// # A development CA
//
// The zero [Config] generates a new P-256 CA valid for ten years, kept in
// memory only:
//
//	ca, err := privateca.New(privateca.Config{})
//	chain, err := ca.Issue(ctx, key, []string{"localhost", "127.0.0.1", "::1"}, nil)
//
// chain is [leaf, CA] as DER. The leaf is valid for seven days
// ([Config.LeafLifetime]) from one minute ago, to absorb clock skew; the
// tlsmgr Manager renews it at half-life. Persist the CA with [CA.CertPEM]
// and [CA.KeyPEM] (the Manager does so in its Storage) and pass them back as
// [Config.CertPEM] and [Config.KeyPEM] on the next start, or every restart
// will mint a CA that no peer trusts.
//
// # A CA shared by a cluster
//
// Every node of a cluster must trust the CA that signed its peers' leaves.
// Make one CA with [Generate] (or any tool: the certificate must have basic
// constraints CA:true and the certSign key usage), distribute its PEM
// certificate and key, and give each node
//
//	privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM}
//
// Each node then issues its own leaves and verifies peers against
// [CA.Roots] (the tlsmgr Manager does so at every mutual-TLS handshake, as
// the tlsmgr.RootsIssuer contract says). Roots takes no lock and does not
// allocate, so it may be called on every handshake.
//
// # Rotating the CA
//
// [CA.Rotate] switches the signing CA. The previous one stays in the trust
// bundle, so leaves it issued keep working until they are renewed; then
// [CA.Untrust] drops it. Across a cluster, rotate in three steps so that no
// node ever meets a leaf it does not trust:
//
//  1. on every node, [CA.Trust] the new CA certificate (or restart with it
//     in [Config.Trust]);
//  2. on every node, [CA.Rotate] to the new certificate and key, and renew
//     the leaves ([CA.IssuerKey] changes with the CA, so stored leaves no
//     longer match the issuer);
//  3. when no leaf from the old CA is left (at most one leaf lifetime
//     later), [CA.Untrust] the old CA on every node.
//
// [CA.BundlePEM] returns every trusted CA certificate, for clients and
// external servers that read a CA file.
//
// # Errors
//
// Invalid configurations give a [*ConfigError] naming the field (for
// example "Config.KeyPEM"), the problem and the fix. Invalid names given to
// Issue give a [*NameError] naming the value. No error ever quotes a
// private key.
//
// # Concurrency
//
// A CA is safe for concurrent use. Issue and the getters read an immutable
// snapshot through an atomic pointer; Rotate, Trust and Untrust replace it.
// A leaf issued during a Rotate is signed by either the old or the new CA,
// and its chain always names the CA that signed it.
package privateca
