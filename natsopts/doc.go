// Package natsopts puts the listeners of an embedded NATS server on TLS
// from a [tlsmgr.Manager], so that certificates rotate without reloads and
// without dropping connections.
//
// # Usage
//
// Build the server options as usual, call [Apply], then start the server:
//
//	m, err := tlsmgr.New(tlsmgr.Config{Names: []string{"nats.example.com"}, Issuer: iss})
//	if err != nil { ... }
//	if err := m.Start(ctx); err != nil { ... }
//	defer m.Close()
//
//	opts := &server.Options{Port: 4222, NoSigs: true}
//	opts.Cluster.Name, opts.Cluster.Port = "east", 6222
//	opts.Routes = server.RoutesFromStr("nats://nats-1.east.internal:6222,nats://nats-2.east.internal:6222")
//	if err := natsopts.Apply(opts, m); err != nil { ... } // a *ConfigError says what to change
//	s, err := server.NewServer(opts)
//
// Apply is pure (no I/O, no goroutines) and idempotent: it sets every
// enabled listener's *tls.Config to the Manager's config for the listener's
// role, the same pointer each time. It leaves disabled listeners and all
// non-TLS options alone; its documentation lists every field it writes.
//
// # Listeners and roles
//
//	listener                  enabled when                        role
//	client                    not DontListen                      client
//	HTTPS monitoring          HTTPSPort != 0 (shares TLSConfig)   client
//	websocket                 Websocket.Port != 0, not NoTLS      websocket
//	MQTT                      MQTT.Port != 0                      mqtt
//	leafnode accept           LeafNode.Port != 0                  leafnode
//	leafnode remotes          each LeafNode.Remotes[i]            leafnode-remote
//	cluster (routes)          Cluster.Port != 0 or ListenStr      cluster
//	gateway and its remotes   Gateway.Port != 0                   gateway
//
// Cluster and gateway are always mutual TLS against the Manager's private
// CA: nodes of a cluster share the CA (and, by default, the names), so give
// each node a Manager on the same storage or the same private CA.
//
// Name route and gateway URLs by DNS name where you can: a peer dialled at
// a DNS name is checked for that name, while a peer dialled at an IP address
// is checked for chain, usage and expiry only (Go does not tell the
// verification callback which IP it dialled), which proves membership of the
// cluster but not which member.
//
// At start nats-server logs "TLS certificate chain and hostname of solicited
// routes will not be verified. DO NOT USE IN PRODUCTION!" (and the same for
// gateways): the dial-side configs turn off Go's built-in verification, whose
// roots are fixed when the config is made, and verify every handshake in
// their VerifyConnection callback instead, against the private CA's current
// bundle, so that a CA rotation needs no reload. The warning is expected.
//
// # Your TLS policy is kept
//
// Apply changes only where certificates come from. A *tls.Config already
// on a listener, such as nats-server parses from a tls {} block, keeps its
// policy: verify and ca_file (ClientAuth, ClientCAs), verify_and_map
// (TLSMap), min_version, cipher_suites, curve_preferences, timeout,
// handshake_first, pinned_certs, and for a leafnode remote its ca_file
// (RootCAs), the roots that verify the hub. For cluster and gateway the
// Manager verifies peers against the private CA and, next to it, the
// config's ca_file, so a cluster can move to managed TLS one node at a
// time. Options parsed again from an unchanged file get the same config
// pointers back (see [tlsmgr.Manager.TLSConfigFor]).
//
// A config with a certificate of its own (cert_file/key_file, a
// certificate store, or Certificates/GetCertificate set in code) makes
// its listener unmanaged: Apply leaves it as it is, [Unmanaged] lists it
// and [Expiry] reports its certificate's expiry, so listeners can move to
// managed TLS one at a time.
//
// # Refusals
//
// [Check] (which Apply runs first) refuses what cannot work or what
// nats-server would silently break: insecure (InsecureSkipVerify) on a
// managed listener, a route or gateway URL or an advertised address whose
// host the role's names do not cover, TLSCheckKnownURLs that no peer could
// pass, TLSMap on a listener that asks no client certificate, OCSP
// stapling that must staple (mode always or must) while a listener is
// managed, TLSRateLimit set in code, and a negative TLSTimeout. Each
// refusal is a *[ConfigError] with the listener, the option, the value,
// the reason, the fix and, in Conf, the nats.conf path of the setting.
//
// # Behind a proxy
//
// The classic NATS protocol sends a plain-text INFO line before TLS, so a
// TLS-terminating proxy in front of the client port deadlocks. Use
// [HandshakeFirst] (TLSHandshakeFirst) for clients that reach the server
// through a proxy that passes TLS through, with clients configured for
// handshake-first too. Websocket may sit behind a TLS-terminating proxy
// with Websocket.NoTLS (Apply then leaves it alone). Routes, gateways and
// leafnodes never sit behind a TLS-terminating proxy: their mutual TLS is
// end to end.
//
// # Signals
//
// Apply does not set NoSigs, and a program that embeds nats-server must:
// without it server.NewServer installs SIGINT/SIGTERM handlers that call
// os.Exit, and a SIGHUP handler that re-reads a config file and would
// replace the TLS set in code. Signals belong to main.
//
// # Certificate expiry
//
// nats-server's /varz shows no tls_cert_not_after for callback configs.
// [Expiry] returns the expiry per listener; the Manager's Status has the
// full renewal schedule.
//
// # Changes at runtime
//
// Renewals need nothing: the next handshake gets the new certificate. To
// add a listener or a remote at runtime, use package
// [github.com/nats-autotls/autotls/reload], which applies the new options
// with Apply and server.ReloadOptions.
package natsopts
