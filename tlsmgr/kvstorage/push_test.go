package kvstorage_test

import (
	"context"
	"crypto/x509"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// storeClock wraps a Storage and records when its last Store returned: the
// moment a certificate becomes visible to the fleet.
type storeClock struct {
	*kvstorage.Storage
	mu   sync.Mutex
	last time.Time
}

func (s *storeClock) Store(ctx context.Context, key string, value []byte) error {
	err := s.Storage.Store(ctx, key, value)
	s.mu.Lock()
	s.last = time.Now()
	s.mu.Unlock()
	return err
}

func (s *storeClock) stored() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// TestRenewalPushedToEveryNode runs 5 Managers with real TLS listeners on
// one bucket and forces 20 renewals on random nodes, with Pebble as the
// CA. After each, every listener must serve the new certificate; the time
// from the renewing node's store to the last node serving it is reported
// (target: max under 1 s). The periodic check is left at its default of
// one minute, so only the watch can meet the target.
func TestRenewalPushedToEveryNode(t *testing.T) {
	srv := startServer(t)
	ca, newIssuer := newACME(t)
	name := uniqueName(t)
	const nodes, renewals = 5, 20
	managers := make([]*tlsmgr.Manager, nodes)
	storages := make([]*storeClock, nodes)
	addrs := make([]string, nodes)
	for i := range managers {
		s, _ := newStorage(t, srv, kvstorage.Config{LockLease: 2 * time.Second})
		storages[i] = &storeClock{Storage: s}
		m, err := tlsmgr.New(tlsmgr.Config{Names: []string{name}, Storage: storages[i], Issuer: newIssuer(storages[i])})
		require.NoError(t, err)
		t.Cleanup(func() { _ = m.Close() })
		managers[i] = m
		cfg, err := m.TLSConfig(tlsmgr.RoleClient)
		require.NoError(t, err)
		addrs[i] = listen(t, cfg)
	}
	startAll(t, managers)
	roots := ca.Roots(t)

	var lags []time.Duration
	first, _, err := managers[0].Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	leaves := []*x509.Certificate{first.Leaf}
	for range renewals {
		node := rand.IntN(nodes)
		waits := make([]<-chan struct{}, nodes)
		for i, m := range managers {
			_, replaced, err := m.Current(tlsmgr.RoleClient)
			require.NoError(t, err)
			waits[i] = replaced
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		require.NoError(t, managers[node].Renew(ctx, tlsmgr.RoleClient))
		var last time.Time
		for i, w := range waits {
			select {
			case <-w:
			case <-ctx.Done():
				t.Fatalf("node %d never served the renewal of node %d", i, node)
			}
			last = time.Now()
		}
		cancel()
		lags = append(lags, max(0, last.Sub(storages[node].stored())))
		want, _, err := managers[node].Current(tlsmgr.RoleClient)
		require.NoError(t, err)
		leaves = append(leaves, want.Leaf)
		for i, addr := range addrs {
			require.Equal(t, want.Leaf.SerialNumber, dialSerial(addr, name, roots), "node %d's listener after a renewal on node %d", i, node)
		}
	}
	require.Equal(t, 1+renewals, ca.Orders(), "one order per renewal: no node renewed on its own")
	for i, leaf := range leaves[:len(leaves)-1] {
		require.True(t, ca.Replaced(leaf), "renewal %d named the certificate it replaced: no stale replaces", i+1)
	}
	slices.Sort(lags)
	t.Logf("store to last node serving, over %d renewals on %d nodes: p50 %v, max %v",
		renewals, nodes, lags[len(lags)/2].Round(time.Microsecond), lags[len(lags)-1].Round(time.Microsecond))
}
