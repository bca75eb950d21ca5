package tlsmgr_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestSharedVolumePushByPeriodicCheck runs two Managers on one directory,
// as two hosts on a shared volume: FileStorage cannot be watched, so the
// periodic storage check is what makes the second serve the first one's
// renewal, with the renewal state stored with it.
func TestSharedVolumePushByPeriodicCheck(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, nil, time.Hour)
	managers := make([]*tlsmgr.Manager, 2)
	for i := range managers {
		managers[i] = startManager(t, tlsmgr.Config{
			PrivateCA: ca, Storage: tlsmgr.NewFileStorage(dir), StorageCheckInterval: 50 * time.Millisecond,
		})
	}
	before, replaced, err := managers[1].Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.NoError(t, managers[0].Renew(testCtx(t), tlsmgr.RoleClient))
	renewed, _, err := managers[0].Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.NotEqual(t, before.Leaf.SerialNumber, renewed.Leaf.SerialNumber)

	select {
	case <-replaced:
	case <-testCtx(t).Done():
		t.Fatal("the second Manager never served the renewal")
	}
	now, _, err := managers[1].Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.Equal(t, renewed.Leaf.SerialNumber, now.Leaf.SerialNumber)
	require.Equal(t, managers[0].Status()[0].NextRenewal, managers[1].Status()[0].NextRenewal, "the renewal state came with it")
}
