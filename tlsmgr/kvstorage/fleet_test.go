package kvstorage_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// TestReplicatedBucketFleetStart starts 30 Managers together, each on its
// own connection to one of 3 servers of a JetStream cluster sharing an R3
// bucket, with an ACME issuer and the default private CA kept in the
// bucket. On R3 a losing lock create often returns "wrong last sequence"
// (10164) rather than "key exists": it must count as contention. Every
// Manager starts, the CA sees exactly one order, every Manager serves the
// same certificate, and no lock error surfaces in any event.
func TestReplicatedBucketFleetStart(t *testing.T) {
	servers := startCluster(t, 3)
	ca, newIssuer := newACME(t)
	name := uniqueName(t)
	const n = 30
	var failures sync.Map
	managers := make([]*tlsmgr.Manager, n)
	for i := range managers {
		storage, _ := newStorage(t, servers[i%len(servers)], kvstorage.Config{Replicas: 3, LockLease: 2 * time.Second})
		m, err := tlsmgr.New(tlsmgr.Config{
			Names: []string{name}, Storage: storage, Issuer: newIssuer(storage),
			OnEvent: func(ev tlsmgr.Event) {
				if ev.Err != nil {
					failures.Store(ev.Err.Error(), i)
				}
			},
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = m.Close() })
		managers[i] = m
	}
	start := time.Now()
	startAll(t, managers)
	t.Logf("%d Managers started in %v", n, time.Since(start).Round(time.Millisecond))

	require.Equal(t, 1, ca.Orders(), "one ACME order for the fleet")
	failures.Range(func(k, v any) bool {
		t.Errorf("manager %d: %s", v, k)
		return true
	})
	for _, role := range []tlsmgr.Role{tlsmgr.RoleClient, tlsmgr.RoleCluster} {
		first := servedSerial(t, managers[0], role, name)
		for i, m := range managers {
			require.Equal(t, first, servedSerial(t, m, role, name), "manager %d, role %s", i, role)
		}
	}
}

// servedSerial returns the serial a handshake on m's role config gets.
func servedSerial(t *testing.T, m *tlsmgr.Manager, role tlsmgr.Role, name string) string {
	t.Helper()
	cfg, err := m.TLSConfig(role)
	require.NoError(t, err)
	if role.Mutual() {
		c, _, err := m.Current(role)
		require.NoError(t, err)
		return c.Leaf.SerialNumber.String()
	}
	serial := handshakeSerial(cfg, name)
	require.NotNil(t, serial, "handshake with %s", role)
	return serial.String()
}
