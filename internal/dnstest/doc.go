// Package dnstest is a small authoritative DNS server for tests, with a
// [libdns] provider in front of its record store.
//
// It exists so that ACME DNS-01 flows (lego's propagation check over UDP,
// Pebble's validation over TCP) can run entirely on loopback, without
// pebble-challtestsrv (whose SOA answers break lego's zone detection).
//
// # Starting a server
//
// [Start] listens on 127.0.0.1 on one random port, UDP and TCP both, and
// serves the zones it is given:
//
//	srv, err := dnstest.Start("example.test.", "delegated.test.")
//	if err != nil { ... }
//	defer srv.Close()
//	resolver := srv.Addr() // "127.0.0.1:53124"
//
// # What it answers
//
// Every zone answers SOA and NS at its apex (the NS is ns1.<zone>), A
// 127.0.0.1 for every name inside the zone (so a validation server can reach
// an http-01 solver on loopback), TXT and CNAME records from the store, and
// AAAA ::1 only once [Server.ServeAAAA] is switched on: Pebble dials the
// first address it resolves and asks for AAAA first, so answering AAAA by
// default would send it to [::1] while solvers listen on 127.0.0.1.
//
// A name inside a zone but without the asked type gets NOERROR with no
// answer and the zone's SOA in the authority section. A name outside every
// zone gets REFUSED. A name with a CNAME answers the CNAME, followed by the
// target's records when the target is in a served zone, as a real server
// would.
//
// # Editing records
//
// [Server.Provider] returns a [Provider] implementing libdns's
// RecordGetter, RecordAppender, RecordSetter and RecordDeleter against the
// store, the way a DNS hosting API would: a zone argument and names
// relative to it. Each Provider has its own fault knobs
// ([Provider.FailNext], [Provider.FailDeletes]) and counters
// ([Provider.Calls]), so tests sharing one server do not disturb each other.
//
//	p := srv.Provider()
//	_, err = p.AppendRecords(ctx, "example.test.", []libdns.Record{
//		libdns.TXT{Name: "_acme-challenge.nats", Text: "token"},
//	})
//	srv.TXT("_acme-challenge.nats.example.test.") // ["token"]
//
// [Server.SetCNAME] delegates a name to another zone, as an operator does
// for DNS-01 CNAME delegation.
//
// # Dynamic updates (RFC 2136)
//
// After [Server.SetTSIGKey], the server applies RFC 2136 UPDATE messages
// signed with that key, as BIND does for nsupdate and lego's rfc2136
// provider: TXT records are added (class IN) and deleted (class NONE for
// one record, ANY for an RRset or a name). Unsigned updates, updates
// signed with another key or a bad MAC are REFUSED; names outside the
// zone are NOTZONE. [Server.Updates] counts the applied updates.
//
// # Concurrency
//
// Server and Provider are safe for concurrent use.
package dnstest
