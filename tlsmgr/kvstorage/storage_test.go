package kvstorage_test

import (
	"testing"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
	"github.com/nats-autotls/autotls/tlsmgr/storagetest"
)

// testLease is the lock lease of the tests: short enough to keep them
// fast, long enough for renewals under -race on a loaded machine.
const testLease = time.Second

// TestStorage runs the conformance suite every tlsmgr.Storage passes, on
// two Storages over two NATS connections to one server.
func TestStorage(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) (tlsmgr.Storage, tlsmgr.Storage) {
		srv := startServer(t)
		cfg := kvstorage.Config{LockLease: testLease}
		a, _ := newStorage(t, srv, cfg)
		b, _ := newStorage(t, srv, cfg)
		return a, b
	})
}

// TestWatcher runs the Watcher conformance suite on two Storages over two
// NATS connections to one server.
func TestWatcher(t *testing.T) {
	storagetest.RunWatcher(t, func(t *testing.T) (tlsmgr.Storage, tlsmgr.Storage) {
		srv := startServer(t)
		cfg := kvstorage.Config{LockLease: testLease}
		a, _ := newStorage(t, srv, cfg)
		b, _ := newStorage(t, srv, cfg)
		return a, b
	})
}
