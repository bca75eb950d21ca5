package tlsmgr_test

import (
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// publicIssuer is a stand-in for an ACME CA: its own roots, its own key.
func publicIssuer(t *testing.T, key string) *testIssuer {
	t.Helper()
	return &testIssuer{RootsIssuer: newCA(t, nil, 0), key: key}
}

// TestPublicRoleNeverServesPrivateLeaf (issue 12, fault 1): the private
// CA's leaf for the server's names is stored (a development-mode run, or a
// fleet member whose ACME order has not finished), but the public roles'
// ACME certificate is not. Start must not return, and the client listener
// must not serve the private leaf, which public clients reject; once the
// public issuer's certificate arrives, a client trusting only the public
// roots connects.
func TestPublicRoleNeverServesPrivateLeaf(t *testing.T) {
	storage := tlsmgr.NewMemoryStorage()
	ca := newCA(t, nil, 0)
	dev := startManager(t, tlsmgr.Config{PrivateCA: ca, Storage: storage})
	require.NoError(t, dev.Close())

	pub := publicIssuer(t, "acme-public")
	pub.gate, pub.entered = make(chan struct{}), make(chan struct{}, 10)
	events := newEventLog()
	m, err := tlsmgr.New(tlsmgr.Config{PrivateCA: ca, Issuer: pub, Storage: storage, OnEvent: events.add})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	started := make(chan error, 1)
	go func() { started <- m.Start(testCtx(t)) }()

	cfg, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	addr := serve(t, cfg)
	<-pub.entered // the public order is under way; storage is loaded
	select {
	case err := <-started:
		t.Fatalf("Start returned %v before the public certificate arrived", err)
	default:
	}
	_, err = dial(t, addr, &tls.Config{InsecureSkipVerify: true})
	require.Error(t, err, "the client listener served a certificate before the public one arrived")
	_, _, err = m.Current(tlsmgr.RoleCluster)
	require.NoError(t, err, "the private roles serve the stored private leaf")

	close(pub.gate)
	require.NoError(t, <-started)
	servedLeaf(t, addr, pub.Roots(), "localhost") // verifies to the public roots only
	require.Equal(t, int32(1), pub.orders.Load())
}

// TestPreviousPublicCertificateServedUntilReplaced: after a change of ACME
// CA, the previous CA's valid certificate is served (by default) until the
// new CA's arrives; with RefusePreviousIssuer, nothing is.
func TestPreviousPublicCertificateServedUntilReplaced(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "refused"}[refuse], func(t *testing.T) {
			storage := tlsmgr.NewMemoryStorage()
			ca := newCA(t, nil, 0)
			oldPub := publicIssuer(t, "acme-old")
			first := startManager(t, tlsmgr.Config{PrivateCA: ca, Issuer: oldPub, Storage: storage})
			old, _, err := first.Current(tlsmgr.RoleClient)
			require.NoError(t, err)
			require.NoError(t, first.Close())

			newPub := publicIssuer(t, "acme-new")
			newPub.gate = make(chan struct{})
			events := newEventLog()
			m, err := tlsmgr.New(tlsmgr.Config{PrivateCA: ca, Issuer: newPub, Storage: storage, StartInBackground: true,
				RefusePreviousIssuer: refuse, OnEvent: events.add})
			require.NoError(t, err)
			t.Cleanup(func() { m.Close() })
			require.NoError(t, m.Start(testCtx(t)))
			cfg, err := m.TLSConfig(tlsmgr.RoleClient)
			require.NoError(t, err)
			addr := serve(t, cfg)
			if refuse {
				_, err = dial(t, addr, &tls.Config{InsecureSkipVerify: true})
				require.Error(t, err)
			} else {
				require.Equal(t, old.Leaf.SerialNumber, servedLeaf(t, addr, oldPub.Roots(), "localhost").SerialNumber)
				st := m.Status()[0]
				require.True(t, st.Interim)
				require.Equal(t, tlsmgr.ReasonIssuerChanged, st.RenewalReason)
			}
			close(newPub.gate)
			done := tlsmgr.EventRenewed // replaces the interim certificate
			if refuse {
				done = tlsmgr.EventObtained
			}
			events.waitRole(t, done, tlsmgr.RoleClient)
			servedLeaf(t, addr, newPub.Roots(), "localhost")
			require.False(t, m.Status()[0].Interim)
		})
	}
}

// TestStoredCertificateFromAnotherCAAtIssuerKeyRejected (issue 12, fault
// 1): storage holds, at the ACME issuer's key, a certificate that does not
// chain to that issuer's roots. It is reported and never served; the
// issuer's own certificate is ordered and served.
func TestStoredCertificateFromAnotherCAAtIssuerKeyRejected(t *testing.T) {
	storage := tlsmgr.NewMemoryStorage()
	ca := newCA(t, nil, 0)
	impostor := publicIssuer(t, "acme-shared-key")
	first := startManager(t, tlsmgr.Config{PrivateCA: ca, Issuer: impostor, Storage: storage})
	bad, _, err := first.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.NoError(t, first.Close())

	real := publicIssuer(t, "acme-shared-key")
	real.gate = make(chan struct{})
	events := newEventLog()
	m, err := tlsmgr.New(tlsmgr.Config{PrivateCA: ca, Issuer: real, Storage: storage, StartInBackground: true, OnEvent: events.add})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.NoError(t, m.Start(testCtx(t)))
	ev := events.wait(t, tlsmgr.EventRejected)
	require.ErrorContains(t, ev.Err, "chain does not verify")
	cfg, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	addr := serve(t, cfg)
	_, err = dial(t, addr, &tls.Config{InsecureSkipVerify: true})
	require.Error(t, err, "served the other CA's certificate")

	close(real.gate)
	events.waitRole(t, tlsmgr.EventObtained, tlsmgr.RoleClient)
	got := servedLeaf(t, addr, real.Roots(), "localhost")
	require.NotEqual(t, bad.Leaf.SerialNumber, got.SerialNumber)
}
