package tlsmgr_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestFailedRenewalKeepsNewerStoredCertificate: Manager b renews the
// shared certificate; then a, still serving the older one, fails a forced
// renewal. Recording a's failure must not write a's older certificate over
// b's newer one: a Manager started afterwards gets b's.
func TestFailedRenewalKeepsNewerStoredCertificate(t *testing.T) {
	ca := newCA(t, nil, 0)
	storage := tlsmgr.NewMemoryStorage()
	tiA := &testIssuer{RootsIssuer: ca}
	a := startManager(t, tlsmgr.Config{PrivateCA: tiA, Storage: storage})
	b := startManager(t, tlsmgr.Config{PrivateCA: &testIssuer{RootsIssuer: ca}, Storage: storage})
	old, _, err := a.Current(tlsmgr.RoleClient)
	require.NoError(t, err)

	require.NoError(t, b.Renew(testCtx(t), tlsmgr.RoleClient))
	newer, _, err := b.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.NotEqual(t, old.Leaf.SerialNumber, newer.Leaf.SerialNumber)

	tiA.failNext(errCADown)
	require.ErrorContains(t, a.Renew(testCtx(t), tlsmgr.RoleClient), "CA down")
	served, _, err := a.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.Equal(t, old.Leaf.SerialNumber, served.Leaf.SerialNumber, "a keeps serving its good certificate")

	c := startManager(t, tlsmgr.Config{PrivateCA: ca, Storage: storage})
	got, _, err := c.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.Equal(t, newer.Leaf.SerialNumber, got.Leaf.SerialNumber, "storage still holds the newer certificate")
}
