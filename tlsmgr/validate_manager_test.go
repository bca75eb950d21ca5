package tlsmgr_test

import (
	"crypto"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

func TestInvalidCertificatesAreRejected(t *testing.T) {
	ca := newCA(t, nil, 0)
	caCert, caKey := caSigner(t, ca)
	other := newCA(t, nil, 0)
	otherCert, otherKey := caSigner(t, other)
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	names := []string{"127.0.0.1", "a.test"}

	ti := &testIssuer{RootsIssuer: ca}
	events := newEventLog()
	m := startManager(t, tlsmgr.Config{Names: names, PrivateCA: ti, Storage: tlsmgr.NewMemoryStorage(), OnEvent: events.add})
	cfg, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	addr := serve(t, cfg)
	roots := ca.Roots()
	good := servedLeaf(t, addr, roots, "a.test")

	tests := []struct {
		name   string
		issue  func(key crypto.Signer, names []string) [][]byte
		reason string
	}{
		{"wrong key", func(_ crypto.Signer, names []string) [][]byte {
			c, _ := makeCert(t, leafSpec{names: names, ekus: both}, caCert, caKey)
			return [][]byte{c.Certificate[0], caCert.Raw}
		}, "private key does not match"},
		{"unknown root", func(key crypto.Signer, names []string) [][]byte {
			c, _ := makeCert(t, leafSpec{key: key, names: names, ekus: both}, otherCert, otherKey)
			return [][]byte{c.Certificate[0], otherCert.Raw}
		}, "chain does not verify"},
		{"missing SAN", func(key crypto.Signer, _ []string) [][]byte {
			c, _ := makeCert(t, leafSpec{key: key, names: []string{"a.test"}, ekus: both}, caCert, caKey)
			return [][]byte{c.Certificate[0], caCert.Raw}
		}, "missing SAN 127.0.0.1"},
		{"missing clientAuth for cluster", func(key crypto.Signer, names []string) [][]byte {
			c, _ := makeCert(t, leafSpec{key: key, names: names, ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, caCert, caKey)
			return [][]byte{c.Certificate[0], caCert.Raw}
		}, "no clientAuth"},
		{"expired", func(key crypto.Signer, names []string) [][]byte {
			c, _ := makeCert(t, leafSpec{key: key, names: names, ekus: both, notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Minute)}, caCert, caKey)
			return [][]byte{c.Certificate[0], caCert.Raw}
		}, "expired"},
		{"not yet valid", func(key crypto.Signer, names []string) [][]byte {
			c, _ := makeCert(t, leafSpec{key: key, names: names, ekus: both, notBefore: time.Now().Add(time.Hour)}, caCert, caKey)
			return [][]byte{c.Certificate[0], caCert.Raw}
		}, "not valid before"},
		{"garbage", func(crypto.Signer, []string) [][]byte { return [][]byte{[]byte("junk")} }, "corrupt certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti.mu.Lock()
			ti.mutate = tt.issue
			ti.mu.Unlock()
			err := m.Renew(testCtx(t), tlsmgr.RoleCluster)
			require.ErrorContains(t, err, tt.reason)
			ev := events.wait(t, tlsmgr.EventRejected)
			require.ErrorContains(t, ev.Err, tt.reason)
			require.Equal(t, good.SerialNumber, servedLeaf(t, addr, roots, "a.test").SerialNumber, "the last good certificate is still served")
		})
	}
}
