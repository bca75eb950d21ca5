package tlsmgr

import "context"

// Watcher is an optional ability of a [Storage] shared by many hosts: it
// reports at once the keys another host stores, so that a certificate one
// Manager obtains is served by every Manager of the fleet within moments
// instead of when each one's own copy falls due. A Manager discovers it by
// type assertion on [Config.Storage]; kvstorage implements it. Managers
// also re-read their certificates from storage every
// [Config.StorageCheckInterval], whether or not the Storage is a Watcher,
// since a watch can miss changes (a server that dies, a shared volume).
type Watcher interface {
	// Watch reports on the returned channel every key under prefix that is
	// stored or deleted from now on, by any writer, until ctx ends; the
	// channel is then closed. A channel closed before ctx ends means that
	// the watch broke: the caller may call Watch again. Keys may be
	// reported more than once.
	Watch(ctx context.Context, prefix string) (<-chan string, error)
}
