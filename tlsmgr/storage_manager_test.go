package tlsmgr_test

import (
	"crypto/tls"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

func TestManagersSharingStorageOrderOnce(t *testing.T) {
	tests := []struct {
		name    string
		storage func(t *testing.T) tlsmgr.Storage
	}{
		{"memory", func(*testing.T) tlsmgr.Storage { return tlsmgr.NewMemoryStorage() }},
		{"file", func(t *testing.T) tlsmgr.Storage { return tlsmgr.NewFileStorage(t.TempDir()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti := &testIssuer{RootsIssuer: newCA(t, nil, 0)}
			storage := tt.storage(t)
			managers := make([]*tlsmgr.Manager, 3)
			for i := range managers {
				m, err := tlsmgr.New(tlsmgr.Config{PrivateCA: ti, Storage: storage})
				require.NoError(t, err)
				t.Cleanup(func() { m.Close() })
				managers[i] = m
			}
			var wg sync.WaitGroup
			errs := make([]error, len(managers))
			for i, m := range managers {
				wg.Go(func() { errs[i] = m.Start(testCtx(t)) })
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			require.Equal(t, int32(1), ti.orders.Load(), "one order for all Managers")
			first, _, err := managers[0].Current(tlsmgr.RoleClient)
			require.NoError(t, err)
			for _, m := range managers[1:] {
				c, _, err := m.Current(tlsmgr.RoleClient)
				require.NoError(t, err)
				require.Equal(t, first.Leaf.SerialNumber, c.Leaf.SerialNumber)
			}
		})
	}
}

func TestRestartServesStoredCertificate(t *testing.T) {
	storage := tlsmgr.NewFileStorage(t.TempDir())
	ti := &testIssuer{RootsIssuer: newCA(t, nil, 0)}
	first := startManager(t, tlsmgr.Config{PrivateCA: ti, Storage: storage})
	a, _, err := first.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.NoError(t, first.Close())

	second := startManager(t, tlsmgr.Config{PrivateCA: ti, Storage: storage})
	b, _, err := second.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.Equal(t, a.Leaf.SerialNumber, b.Leaf.SerialNumber)
	require.Equal(t, int32(1), ti.orders.Load())
}

func TestDefaultPrivateCAIsShared(t *testing.T) {
	storage := tlsmgr.NewFileStorage(t.TempDir())
	a := startManager(t, tlsmgr.Config{Storage: storage, Names: []string{"a.local"}})
	b := startManager(t, tlsmgr.Config{Storage: storage, Names: []string{"b.local"}})
	require.NotEmpty(t, a.TrustBundlePEM())
	require.Equal(t, a.TrustBundlePEM(), b.TrustBundlePEM())
	srv, err := a.TLSConfig(tlsmgr.RoleCluster)
	require.NoError(t, err)
	_, err = dial(t, serve(t, srv), dialer(t, b, tlsmgr.RoleCluster, "a.local"))
	require.NoError(t, err)
}

func TestCorruptStoredCertificateIsReplaced(t *testing.T) {
	storage := tlsmgr.NewMemoryStorage()
	ti := &testIssuer{RootsIssuer: newCA(t, nil, 0)}
	first := startManager(t, tlsmgr.Config{PrivateCA: ti, Storage: storage})
	require.NoError(t, first.Close())

	ctx := testCtx(t)
	keys, err := storage.List(ctx, "certificates", true)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.NoError(t, storage.Store(ctx, keys[0], []byte(`{"format":1,"chain_pem":"garbage`)))

	events := newEventLog()
	second := startManager(t, tlsmgr.Config{PrivateCA: ti, Storage: storage, OnEvent: events.add})
	ev := events.wait(t, tlsmgr.EventFailed)
	require.ErrorContains(t, ev.Err, "corrupt certificate bundle")
	require.NotContains(t, ev.Err.Error(), "PRIVATE KEY")
	events.wait(t, tlsmgr.EventObtained)
	_, _, err = second.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.Equal(t, int32(2), ti.orders.Load())
	data, err := storage.Load(ctx, keys[0])
	require.NoError(t, err)
	require.True(t, strings.Contains(string(data), "BEGIN CERTIFICATE"), "the corrupt value was replaced")
}

// TestLeafOfAnotherPrivateCANotServed: the private CA changed (not
// rotated: the new one does not trust the old); the old CA's stored leaf
// is served to no role, since peers trusting the new CA reject it. Start
// in the background returns; handshakes fail until the new leaf arrives.
func TestLeafOfAnotherPrivateCANotServed(t *testing.T) {
	storage := tlsmgr.NewMemoryStorage()
	oldCA := newCA(t, nil, 0)
	first := startManager(t, tlsmgr.Config{PrivateCA: oldCA, Storage: storage})
	require.NoError(t, first.Close())

	newIssuer := &testIssuer{RootsIssuer: newCA(t, nil, 0), gate: make(chan struct{})}
	events := newEventLog()
	m, err := tlsmgr.New(tlsmgr.Config{PrivateCA: newIssuer, Storage: storage, StartInBackground: true, OnEvent: events.add})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.NoError(t, m.Start(testCtx(t)))

	_, _, err = m.Current(tlsmgr.RoleClient)
	require.ErrorIs(t, err, tlsmgr.ErrNoCertificate)
	cfg, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	addr := serve(t, cfg)
	_, err = dial(t, addr, &tls.Config{InsecureSkipVerify: true})
	require.Error(t, err, "no certificate is served before the new CA's")

	close(newIssuer.gate)
	events.waitRole(t, tlsmgr.EventObtained, tlsmgr.RoleClient)
	servedLeaf(t, addr, newIssuer.Roots(), "localhost")
}
