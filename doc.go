// Package autotls gives every NATS server valid, always-renewed TLS
// certificates with no operator work and no downtime.
//
// This root package holds documentation only; the work is done by its
// sub-packages:
//
//   - [github.com/nats-autotls/autotls/tlsmgr]: the Manager. It obtains,
//     stores, renews and validates certificates and hands out a *tls.Config
//     for every NATS listener role whose callbacks always serve the current
//     certificate, so that rotation needs no reload and drops no connection.
//   - [github.com/nats-autotls/autotls/tlsmgr/privateca]: a private CA for
//     cluster routes, gateways and leafnode remotes (mutual TLS needs the
//     clientAuth usage that public CAs no longer issue), and the
//     zero-configuration default for development.
//   - [github.com/nats-autotls/autotls/acme]: an issuer for any RFC 8555
//     directory (Let's Encrypt, ZeroSSL, step-ca, Pebble) over DNS-01 or
//     HTTP-01, with ACME Renewal Information.
//   - [github.com/nats-autotls/autotls/natsopts]: Apply patches a
//     *server.Options so that every listener it enables uses the Manager.
//   - [github.com/nats-autotls/autotls/reload]: applies changed options to a
//     running server, and keeps certificate files of an external nats-server
//     current (sidecar mode), confirming by a handshake that it reloaded.
//
// # Embedding
//
// Two calls put an embedded NATS server on managed TLS:
//
//	m, err := tlsmgr.New(tlsmgr.Config{
//		Names:   []string{"nats.example.com"},
//		Issuer:  acmeIssuer, // nil: the private CA (development)
//		Storage: tlsmgr.NewFileStorage("/var/lib/nats-autotls"),
//	})
//	if err != nil { ... }
//	if err := m.Start(ctx); err != nil { ... }
//	defer m.Close()
//
//	opts := &server.Options{Port: 4222, NoSigs: true}
//	if err := natsopts.Apply(opts, m); err != nil { ... }
//	s, err := server.NewServer(opts)
//
// The reference binary in example/nats-autotls does exactly this, with the
// nats-server command line on top.
package autotls
