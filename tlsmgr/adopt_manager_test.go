package tlsmgr_test

import (
	"crypto"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestAdoptNeverSwitchesToOlderCertificate: the served certificate is due
// (a long lifetime mostly used up) but expires later than the certificate a
// stale writer put back into storage. That older one passes every check
// and is not due itself, yet the renewal loop must not adopt it: it orders
// a new certificate instead.
func TestAdoptNeverSwitchesToOlderCertificate(t *testing.T) {
	clock := newClock()
	ca := newCA(t, clock, 90*24*time.Hour)
	caCert, caKey := caSigner(t, ca)
	ti := &testIssuer{RootsIssuer: ca}
	storage := tlsmgr.NewMemoryStorage()
	m := startManager(t, tlsmgr.Config{PrivateCA: ti, Clock: clock, Storage: storage})
	older, _, err := m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	keys, err := storage.List(testCtx(t), "certificates", true)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	staleData, err := storage.Load(testCtx(t), keys[0])
	require.NoError(t, err)

	ti.mu.Lock()
	ti.mutate = func(key crypto.Signer, names []string) [][]byte {
		c := must(makeCert(t, leafSpec{
			names: names, key: key,
			ekus:      []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			notBefore: clock.Now().Add(-400 * 24 * time.Hour), notAfter: older.Leaf.NotAfter.Add(time.Hour),
		}, caCert, caKey))
		return c.Certificate
	}
	ti.mu.Unlock()
	require.NoError(t, m.Renew(testCtx(t), tlsmgr.RoleClient))
	current, replaced, err := m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.True(t, current.Leaf.NotAfter.After(older.Leaf.NotAfter))
	ti.mu.Lock()
	ti.mutate = nil
	ti.mu.Unlock()
	orders := ti.orders.Load()

	require.NoError(t, storage.Store(testCtx(t), keys[0], staleData), "a stale writer puts the older certificate back")
	clock.Advance(2 * time.Minute) // past the minute the loop waits after an issuance
	select {
	case <-replaced:
	case <-testCtx(t).Done():
		t.Fatal("the due certificate was never replaced")
	}
	got, _, err := m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.NotEqual(t, older.Leaf.SerialNumber, got.Leaf.SerialNumber, "switched back to the older stored certificate")
	require.True(t, got.Leaf.NotAfter.After(older.Leaf.NotAfter))
	require.Equal(t, orders+1, ti.orders.Load(), "a new certificate was ordered")
}
