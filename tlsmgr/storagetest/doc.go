// Package storagetest is the conformance suite of [tlsmgr.Storage]: every
// implementation, in this module or outside it, runs the same behavioural
// tests by calling [Run] from a test.
//
// # Usage
//
// Give [Run] a function that returns two views of one new, empty store:
//
//	func TestMyStorage(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) (a, b tlsmgr.Storage) {
//			dir := t.TempDir()
//			return mystorage.Open(dir), mystorage.Open(dir)
//		})
//	}
//
// Values written through a must be visible through b, and a lock held by a
// must exclude b. Where the store has clients (a directory, a network
// bucket), make a and b two independent clients, so that the suite checks
// what two processes sharing the store would see.
//
// # What it checks
//
// Round trips and overwrites, missing keys matching [io/fs.ErrNotExist],
// invalid keys failing with [*tlsmgr.InvalidKeyError], the tree semantics of
// List, Stat and Delete (a value cannot also be a directory), atomic
// concurrent Stores, and the exclusion, independence, cancellation and
// release of locks. Lease expiry of a dead holder is implementation-specific
// (how does a holder die?) and left to each implementation's own tests.
//
// A Storage that is also a [tlsmgr.Watcher] runs [RunWatcher] as well: a
// store or delete through one view reaches a watch on the other, a watch
// sees only its prefix, and its channel closes with its context.
package storagetest
