// Package reload carries certificate and option changes to NATS servers
// that callbacks alone cannot reach: option changes of an embedded server
// (in process), and certificate files of a nats-server in another process
// (sidecar mode).
//
// # In process
//
// An embedded server on [natsopts.Apply] needs no reload for renewals. For
// a new listener, leafnode remote or gateway, or any non-TLS option, build
// new options and call [Options]:
//
//	newOpts := opts.Clone()
//	newOpts.LeafNode.Remotes = append(newOpts.LeafNode.Remotes, remote)
//	if err := reload.Options(ctx, s, newOpts, m); err != nil { ... }
//
// Options runs natsopts.Apply, so the Manager's config pointers come back
// unchanged, then server.ReloadOptions; existing connections stay up. It
// never calls server.Reload, which re-reads a config file and drops TLS set
// in code. Each reload re-checks every client's authorization: use it for
// configuration changes, not on a timer.
//
// # Sidecar mode
//
// A [Sidecar] runs next to an unmodified nats-server: it writes the
// Manager's certificates as files (see [Exporter] for the layout), sends
// the server the reload signal, and confirms by TLS handshakes that the
// server serves the new certificate:
//
//	sc := &reload.Sidecar{
//		Exporter:    reload.Exporter{Manager: m, Dir: "/etc/nats/certs"},
//		PIDFile:     "/var/run/nats/nats.pid",
//		ConfirmAddr: "127.0.0.1:4222",
//	}
//	err := sc.Run(ctx) // until ctx ends
//
// The nats-server config names the stable paths Dir/<role>.crt,
// Dir/<role>.key and Dir/ca.pem in cert_file, key_file and ca_file (the
// config file, not flags: a reload re-reads only the file). The roles are
// client, websocket, mqtt, leafnode, leafnode-remote, cluster and gateway.
//
// Run syncs at start (without signalling if the server already serves the
// files) and after every certificate change. A round that cannot confirm
// the reload within ConfirmTimeout fails with a *[ConfirmError] (the signal
// went to another process, the pid file is stale, the server refused the
// files); Run logs it, reports it to OnSync and retries after
// RetryInterval. For hooks, [Sidecar.Sync] does one round and
// [Exporter.Export], [Sidecar.Signal] and [Sidecar.Confirm] one step each.
//
// Reload signals are sent with server.ProcessSignal to the given pid only.
// This package installs no signal handler: signals are main's business.
//
// # Probing
//
// [Handshake] runs a TLS handshake with any NATS port, reading the
// plain-text INFO line first where the protocol sends one, and returns the
// connection state: the served certificate is in PeerCertificates.
package reload
