// Package tlsmgr gives every listener and dialer of a NATS server a valid,
// automatically renewed TLS certificate.
//
// A [Manager] obtains certificates from an [Issuer] (an ACME CA such as
// Let's Encrypt, or the private CA of package privateca), keeps them in a
// [Storage], renews them before they expire and hands out one fixed
// *tls.Config per [Role]. The configs serve certificates through callbacks,
// so a renewed certificate reaches the next handshake without reloading the
// server, and open connections keep working.
//
//	m, err := tlsmgr.New(tlsmgr.Config{
//		Names:  []string{"nats.example.com"},
//		Issuer: acmeIssuer, // nil: the private CA signs everything (dev mode)
//	})
//	if err != nil { ... }
//	if err := m.Start(ctx); err != nil { ... } // every role has a certificate
//	defer m.Close()
//	clientTLS, _ := m.TLSConfig(tlsmgr.RoleClient)
//
// # Roles
//
// Each [Role] is a NATS listener or dialer: client (and HTTPS monitoring),
// websocket, MQTT, leafnode accept, leafnode remote, cluster and gateway.
// Roles with the same issuer, names and key type share one certificate and
// one order: by default the public roles share one and cluster, gateway and
// leafnode remote share another. [Config.Roles] overrides names, issuer and
// key type per role.
//
// Every config has MinVersion TLS 1.2, a GetCertificate callback and an
// empty Certificates list (so clients that send no SNI, as NATS clients
// dialing an IP do, get the role's default certificate), and no NextProtos.
// Roles that dial (cluster, gateway, leafnode remote) also have
// GetClientCertificate; ServerName is left empty for nats-server to set per
// peer.
//
// # Issuers
//
// Public roles are signed by [Config.Issuer]; cluster, gateway and leafnode
// remote by [Config.PrivateCA], because public CAs no longer issue the
// clientAuth usage that mutual TLS needs. Both default to a private CA
// stored in Storage at "privateca/ca.json", generated on first use, so a
// zero Config works on a laptop. Cluster and gateway peers, and peers of a
// role with [RoleConfig.VerifyPeers], must present a certificate that
// chains to the private CA's current bundle ([Manager.TrustBundlePEM]),
// with clientAuth when they dial us, and serverAuth and the expected name
// when we dial them.
//
// # Storage
//
// One value per certificate, at
// "certificates/<issuer key>/<name set id>.json", holds the chain, its key
// and its renewal state, so a certificate is never without its key. Start
// serves a stored certificate at once if it is still valid and is the
// role's own: from the role's issuer and chaining to its roots. A role
// never serves another issuer's certificate, with two exceptions while its
// own is ordered: one that chains to its issuer's roots (the same CA under
// another key, or the private CA's previous bundle during a rotation), and,
// on a public role, a valid certificate from a previous public issuer
// (after a change of ACME CA) unless [Config.RefusePreviousIssuer]. The
// private CA's leaf is never served on a public role: Start waits for the
// public certificate instead, and [CertStatus.Interim] tells when an
// interim one is served. Orders run under a storage lock, and a Manager
// that gets the lock after another one stored a fresh certificate uses it:
// Managers sharing a storage order once.
//
// Serving never depends on writing: a stored private CA is read without a
// lock, and when the storage lock cannot be taken (read-only or full
// storage) an order goes ahead without it, with a warning; a certificate
// that cannot be stored is still served, and the failure is reported.
//
// # Fleets
//
// Managers on many hosts may share one Storage (kvstorage's bucket, or a
// FileStorage on a shared volume). A certificate any of them stores is
// served by all: at once if the Storage is a [Watcher], and in any case
// within [Config.StorageCheckInterval]. A Manager adopts the stored
// certificate with its renewal state, so it never renews with a stale
// "replaces", and a Manager waiting for the lock to renew stops waiting
// when the certificate arrives. Start reads what it needs by key, never
// every certificate stored: its cost does not grow with the storage.
//
// [Config.Cache] keeps a local copy of what a Manager serves. When Storage
// fails (an unreachable bucket), Start serves from the cache; no order is
// placed while a lock that waits out the outage (kvstorage's) cannot be
// taken; and once Storage answers
// again the Manager adopts a newer stored certificate, or writes its own
// back if Storage holds an older one or none.
//
// # Renewal
//
// A certificate is renewed at a time picked once at random in the issuer's
// advised window (ACME ARI, asked every [Config.RenewCheckInterval]); without
// advice when a third of its lifetime remains (half, for lifetimes under 10
// days), spread by a per-certificate jitter; and in any case when less than
// a twentieth remains. After a failure the next attempt waits 1 min,
// 10 min, 100 min, ... up to a day, but at most a tenth of the validity
// left (at least a minute) and at most 5 minutes while there is no
// certificate or it has expired, with a jitter of ±10%; never before the
// issuer's Retry-After (429 or 503), itself clamped to [MaxRetryAfter].
// The failure count, the next attempt and the Retry-After are stored, with
// the certificate or, without one, at "renewal/<issuer key>/<name set
// id>.json", so a restart honours them, and Managers sharing a storage back
// off together. A warning is logged when the served certificate enters its
// last twentieth of validity and an error when it has expired (and at each
// failed attempt after that). A failure never replaces a good certificate;
// every new certificate is validated (key, chain, names, usage, validity)
// before it is served.
// [Manager.Renew] renews at once; [Manager.Status] shows the schedule and
// [Config.OnEvent] reports every step.
//
// # Rotation without reload
//
// [Manager.TLSConfig] returns the same pointer for a role on every call, so
// nats-server's ReloadOptions sees no change. Handshakes read the current
// certificate from an atomic pointer, and peers are verified against the
// private CA's roots read at each handshake, so certificate renewal and CA
// rotation both take effect without a reload. [Manager.Current] returns a
// channel closed when a role's certificate changes, for exporters.
//
// # nats-server's insecure warning
//
// nats-server logs, once at start,
//
//	TLS certificate chain and hostname of solicited routes will not be verified. DO NOT USE IN PRODUCTION!
//
// and the same for "solicited gateways" (and "solicited leafnodes" when the
// leafnode remote follows the private CA, in development mode), because
// the dial-side *tls.Config of those roles has InsecureSkipVerify set. The warning is expected: Go's built-in
// verification is replaced by the Manager's VerifyConnection callback,
// which at every handshake verifies the peer's chain to the current trust
// bundle, its extended key usage, its name and its expiry. Reading the
// bundle at each handshake is what lets a CA rotation take effect without
// a reload. A peer dialled by IP address is not name-checked: crypto/tls
// gives the callback no server name for it; use DNS names in route and
// gateway URLs for the full check.
//
// # Concurrency
//
// A Manager is safe for concurrent use. Start starts one goroutine per
// certificate and one that watches Storage; Close stops and waits for them, cancels a Start or
// [Manager.Renew] in progress and waits for it, and is idempotent. The TLS
// callbacks take no lock.
package tlsmgr
