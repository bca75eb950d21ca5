// Package kvstorage is a [tlsmgr.Storage] kept in a NATS JetStream
// key-value bucket, so that a fleet of Managers on many hosts shares
// certificates, the ACME account and the private CA through NATS, with no
// shared disk, and orders each certificate once for the whole fleet.
//
// # Usage
//
// Connect to a NATS system with JetStream, open the Storage and give it to
// every Manager of the fleet:
//
//	nc, err := nats.Connect(url, nats.UserCredentials("autotls.creds"))
//	...
//	js, err := jetstream.New(nc)
//	...
//	storage, err := kvstorage.New(ctx, js, kvstorage.Config{Replicas: 3})
//	...
//	defer storage.Close()
//	m, err := tlsmgr.New(tlsmgr.Config{Names: names, Storage: storage})
//
// [New] binds to the buckets if they exist, keeping their configuration,
// and creates them otherwise: the values in [Config.Bucket] ("nats_autotls"
// by default, one revision of history), the locks in [Config.LockBucket]
// (the same name plus "_locks", with the lock lease as its TTL).
//
// # Keys
//
// tlsmgr keys are slash-separated paths such as
// "certificates/ca/nats.example.com.json", validated by the rules of
// tlsmgr's own storages. Each segment becomes one token of a KV key, and
// every byte outside [A-Za-z0-9_-] within it, '.' and '=' included, is
// written as "=XX" in hex: the key above is stored as
// "certificates.ca.nats=2Eexample=2Ecom=2Ejson". The mapping is reversible,
// and the subject wildcard "certificates.>" selects everything under
// "certificates", which is how List, Stat and Delete see directories.
//
// As in a file system, a key cannot both hold a value and other keys:
// Store refuses "a/b/c" when "a/b" is a value, and "a" when "a/b" exists.
// These checks are reads separate from the put; the put itself is atomic.
// Delete purges the key's history, and deleting a "directory" deletes
// everything under it.
//
// # Locks
//
// A lock is a key of the lock bucket, created with the holder's identity
// (host, process id and a random part) by whichever Storage gets there
// first: the KV create succeeds only if the key is absent. The holder
// renews it every lease/3 with a revision-checked update, from a goroutine
// that Unlock and Close stop. Since the lock bucket's TTL is the lease, a
// holder that dies (or loses NATS) stops renewing and its lock disappears
// within one lease of its last renewal. Waiters watch the key, to take the
// lock as soon as it is released, and poll every lease/10 (at least 50 ms)
// for its expiry, which the watch does not report: a dead holder's lock is
// taken over within about 1.1 leases. Unlock deletes the key only if its
// revision is still the holder's.
//
// On a replicated bucket, a Create that loses a race over the delete
// marker an Unlock leaves is answered with JetStream's "wrong last
// sequence" (10164) rather than "key exists": Lock treats every such
// answer as "held by another", and retries any other failure (JetStream
// unreachable, a timeout) with backoff, so that it fails only when its
// context ends.
//
// While a Storage holds a lock, its writes under "certificates/" are
// fenced: a write fails with [ErrFenced], changing nothing, if a held
// lock has outlived its lease or if the key changed since this Storage
// read it under the lock. A holder that lost its lock mid-order thus never
// overwrites the certificate of the holder that took over.
//
// # Watching, keys and outages
//
// Storage is a [tlsmgr.Watcher]: a Manager watches the bucket and serves a
// certificate another host stored within milliseconds. Keys longer than
// [MaxKeyLen] once encoded are refused with a [*KeyTooLongError] before
// they reach the server, which would otherwise close the connection for
// good. Calls fail at once with [ErrOffline] while the NATS connection is
// down; with [Config.AllowOffline], New succeeds even then and binds the
// buckets later, so that a Manager with a [tlsmgr.Config].Cache starts
// from its cache.
//
// Every Storage of a fleet must use the same lease, since it is a property
// of the bucket: leave [Config.LockLease] zero to adopt the existing
// bucket's, or New fails on a mismatch.
//
// # Security
//
// Values are stored as [tlsmgr.FileStorage] stores them: private keys, the
// ACME account key and the private CA key in the clear. The bucket is the
// security boundary, as the directory is for FileStorage: anyone who can
// read it can impersonate the fleet, and anyone who can write it can
// plant certificates. Restrict both buckets with NATS permissions to the
// users the Managers connect as, ideally in an account of their own that
// holds nothing else (its JetStream API, "$JS.API.>", and the buckets'
// subjects "$KV.nats_autotls.>" and "$KV.nats_autotls_locks.>"), and
// protect the JetStream store on disk (or enable JetStream encryption at
// rest) as you would the key files.
package kvstorage
