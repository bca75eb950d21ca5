package kvstorage_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// TestDeadHolderLosesLock closes the NATS connection of a lock holder
// without Unlock, as a crash would, and checks that another Storage takes
// the lock over within the documented bound.
func TestDeadHolderLosesLock(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	cfg := kvstorage.Config{LockLease: testLease}
	dead, deadConn := newStorage(t, srv, cfg)
	other, _ := newStorage(t, srv, cfg)
	require.NoError(t, dead.Lock(t.Context(), "issue/nats.example.com"))
	deadConn.Close()

	// The lock vanishes within one lease of the last renewal, and a waiter
	// polls every lease/10: 3 leases leave room for a loaded machine.
	ctx, cancel := context.WithTimeout(t.Context(), 3*testLease)
	defer cancel()
	start := time.Now()
	require.NoError(t, other.Lock(ctx, "issue/nats.example.com"), "lock not taken over within 3 leases")
	t.Logf("lock taken over %v after its holder died (lease %v)", time.Since(start).Round(time.Millisecond), testLease)
	require.NoError(t, other.Unlock(t.Context(), "issue/nats.example.com"))
	require.ErrorContains(t, dead.Unlock(t.Context(), "issue/nats.example.com"), "unlock")
}

// TestRenewalKeepsLock checks that a live holder keeps the lock for three
// leases, its renewals keeping the lock bucket's TTL from expiring it, and
// can still release it.
func TestRenewalKeepsLock(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	cfg := kvstorage.Config{LockLease: testLease}
	holder, _ := newStorage(t, srv, cfg)
	other, _ := newStorage(t, srv, cfg)
	require.NoError(t, holder.Lock(t.Context(), "issue/nats.example.com"))

	ctx, cancel := context.WithTimeout(t.Context(), 3*testLease)
	defer cancel()
	require.ErrorIs(t, other.Lock(ctx, "issue/nats.example.com"), context.DeadlineExceeded)
	require.NoError(t, holder.Unlock(t.Context(), "issue/nats.example.com"), "the holder never lost its lease")
	require.NoError(t, other.Lock(t.Context(), "issue/nats.example.com"))
	require.NoError(t, other.Unlock(t.Context(), "issue/nats.example.com"))
}

// TestCloseReleasesLocks checks that Close releases held locks at once and
// that Lock fails afterwards.
func TestCloseReleasesLocks(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	cfg := kvstorage.Config{LockLease: 10 * time.Second}
	a, _ := newStorage(t, srv, cfg)
	b, _ := newStorage(t, srv, cfg)
	require.NoError(t, a.Lock(t.Context(), "one"))
	require.NoError(t, a.Lock(t.Context(), "two"))
	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "Close is idempotent")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for _, name := range []string{"one", "two"} {
		require.NoError(t, b.Lock(ctx, name), "released by Close well before its 10 s lease")
	}
	require.ErrorContains(t, a.Lock(t.Context(), "three"), "closed")
}

// TestRenewalWithLostReply: a renewal the server applied but whose reply
// was lost moves the lock's revision behind the holder's back (simulated
// by a write of the same holder record). The holder must neither report
// the lock lost nor let it go: others stay out, and Unlock succeeds.
func TestRenewalWithLostReply(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	cfg := kvstorage.Config{LockLease: testLease}
	holder, _ := newStorage(t, srv, cfg)
	other, _ := newStorage(t, srv, cfg)
	require.NoError(t, holder.Lock(t.Context(), "lost-reply"))

	_, js := connect(t, srv)
	locks, err := js.KeyValue(t.Context(), kvstorage.DefaultBucket+"_locks")
	require.NoError(t, err)
	e, err := locks.Get(t.Context(), "lost-reply")
	require.NoError(t, err)
	_, err = locks.Update(t.Context(), "lost-reply", e.Value(), e.Revision())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 2*testLease)
	defer cancel()
	require.ErrorIs(t, other.Lock(ctx, "lost-reply"), context.DeadlineExceeded, "the holder kept renewing")
	require.NoError(t, holder.Unlock(t.Context(), "lost-reply"))
}
