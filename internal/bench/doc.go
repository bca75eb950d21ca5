//go:build unix

// Package bench measures nats-autotls against plain nats-server TLS on
// loopback, with embedded servers, a nats-server binary and real nats.go
// clients, and judges the project's performance targets.
//
// # Sections
//
//  1. TLS connection rate: the Manager's callback configuration against
//     the same certificate loaded from files, an identical static server
//     (the A/A control that shows the noise band) and a chain that also
//     carries the root.
//  2. Publish throughput and request-reply p50/p99 on the same servers.
//  3. Rotation every 100 ms under load: the project (Renew), files plus
//     ReloadOptions, and an external nats-server with files plus SIGHUP:
//     lost messages, failed and stale dials, dropped connections, the cost
//     of a rotation and the time until a new connection sees it.
//  4. The cost of one rotation with 0, 1,000 and 10,000 idle clients.
//  5. Start-up to ready: the reference binary with stored certificates
//     against nats-server with the same certificates as files, and the
//     fsyncs each makes before listening (when strace is installed).
//  6. Heap and goroutines per managed certificate and GetCertificate's
//     cost at 1, 100 and 1,000 certificates.
//  7. Renew's time and storage calls on file and memory storage.
//
// Comparisons run in alternating rounds and report medians, ranges and
// per-round ratios, so that a busy machine slows every arm alike. Run it
// with the command in internal/cmd/bench:
//
//	GOTOOLCHAIN=go1.27.3 go run ./internal/cmd/bench
//
// [Config.Short] runs everything with tiny loads, as a smoke test.
package bench
