package privateca_test

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// TestRotate: after every node rotates, a node still holding a leaf from
// the old CA and a node with a leaf from the new CA accept each other both
// ways (overlap); once the old CA is untrusted, the old leaf is refused.
func TestRotate(t *testing.T) {
	oldPEM, oldKey := gen(t, "old CA", 0)
	newPEM, newKey := gen(t, "new CA", 0)
	caA := newCA(t, privateca.Config{CertPEM: oldPEM, KeyPEM: oldKey})
	caB := newCA(t, privateca.Config{CertPEM: oldPEM, KeyPEM: oldKey})
	oldCert := caA.Certificate()
	oldIssuerKey := caA.IssuerKey()
	a := nodeOf(t, caA) // keeps its leaf from the old CA

	for _, ca := range []*privateca.CA{caA, caB} {
		require.NoError(t, ca.Rotate(newPEM, newKey))
	}
	b := nodeOf(t, caB) // leaf from the new CA
	require.Equal(t, "new CA", b.cert.Leaf.Issuer.CommonName)
	require.Equal(t, "old CA", a.cert.Leaf.Issuer.CommonName)
	require.NotEqual(t, oldIssuerKey, caA.IssuerKey())
	require.Equal(t, caA.IssuerKey(), caB.IssuerKey())
	require.Equal(t, append(append([]byte{}, newPEM...), oldPEM...), caA.BundlePEM(), "signing CA first, old CA kept")

	handshake(t, a, b).requireAccepted(t) // old leaf dials new leaf
	handshake(t, b, a).requireAccepted(t) // new leaf dials old leaf

	for _, ca := range []*privateca.CA{caA, caB} {
		require.NoError(t, ca.Untrust(oldCert))
	}
	require.Equal(t, newPEM, caA.BundlePEM())
	handshake(t, a, b).requireRefusedBy(t, "acceptor") // b refuses a's old client leaf
	handshake(t, b, a).requireRefusedBy(t, "dialer")   // b refuses a's old server leaf

	a = nodeOf(t, caA) // renewed
	handshake(t, a, b).requireAccepted(t)
	handshake(t, b, a).requireAccepted(t)
}

// TestRollingRotation: the documented cluster procedure. Trust the new CA
// everywhere, then rotate node by node; at every step all nodes accept
// each other.
func TestRollingRotation(t *testing.T) {
	oldPEM, oldKey := gen(t, "old CA", 0)
	newPEM, newKey := gen(t, "new CA", 0)
	cas := []*privateca.CA{
		newCA(t, privateca.Config{CertPEM: oldPEM, KeyPEM: oldKey}),
		newCA(t, privateca.Config{CertPEM: oldPEM, KeyPEM: oldKey}),
	}
	for _, ca := range cas {
		require.NoError(t, ca.Trust(newPEM))
	}
	require.NoError(t, cas[0].Rotate(newPEM, newKey))
	rotated, pending := nodeOf(t, cas[0]), nodeOf(t, cas[1])
	require.Equal(t, "new CA", rotated.cert.Leaf.Issuer.CommonName)
	require.Equal(t, "old CA", pending.cert.Leaf.Issuer.CommonName)
	handshake(t, rotated, pending).requireAccepted(t)
	handshake(t, pending, rotated).requireAccepted(t)
}

func TestRotateWithoutTrustRefusedByOtherNode(t *testing.T) {
	oldPEM, oldKey := gen(t, "old CA", 0)
	newPEM, newKey := gen(t, "new CA", 0)
	caA := newCA(t, privateca.Config{CertPEM: oldPEM, KeyPEM: oldKey})
	caB := newCA(t, privateca.Config{CertPEM: oldPEM, KeyPEM: oldKey})
	require.NoError(t, caA.Rotate(newPEM, newKey))
	// A node that has not trusted the new CA refuses its leaves: Trust first.
	handshake(t, nodeOf(t, caA), nodeOf(t, caB)).requireRefusedBy(t, "acceptor")
	handshake(t, nodeOf(t, caB), nodeOf(t, caA)).requireRefusedBy(t, "dialer")
}

func TestRotateErrors(t *testing.T) {
	ca := newCA(t, privateca.Config{})
	before := ca.BundlePEM()
	_, otherKey := gen(t, "", 0)
	newPEM, _ := gen(t, "", 0)
	expiredPEM, expiredKey := generateAt(t, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	tests := []struct {
		name          string
		cert, key     []byte
		field, reason string
	}{
		{"no cert", nil, otherKey, "Rotate certPEM", "empty"},
		{"no key", newPEM, nil, "Rotate keyPEM", "missing"},
		{"mismatched key", newPEM, otherKey, "Rotate keyPEM", "does not match"},
		{"garbage cert", []byte("junk"), otherKey, "Rotate certPEM", "no certificate"},
		{"expired CA", expiredPEM, expiredKey, "Rotate certPEM", "expired at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ca.Rotate(tt.cert, tt.key)
			var ce *privateca.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tt.field, ce.Field)
			require.ErrorContains(t, err, tt.reason)
			requireNoSecrets(t, err.Error(), otherKey)
			require.Equal(t, before, ca.BundlePEM(), "a failed Rotate changes nothing")
		})
	}
}

func TestRotateToCurrentIsNoop(t *testing.T) {
	certPEM, keyPEM := gen(t, "", 0)
	ca := newCA(t, privateca.Config{CertPEM: certPEM, KeyPEM: keyPEM})
	require.NoError(t, ca.Rotate(certPEM, keyPEM))
	require.Equal(t, certPEM, ca.BundlePEM())
}

func TestUntrust(t *testing.T) {
	extraPEM, _ := gen(t, "extra", 0)
	extra, err := x509.ParseCertificate(mustDER(t, extraPEM))
	require.NoError(t, err)
	unknownPEM, _ := gen(t, "unknown", 0)
	unknown, err := x509.ParseCertificate(mustDER(t, unknownPEM))
	require.NoError(t, err)

	ca := newCA(t, privateca.Config{Trust: [][]byte{extraPEM}})
	signing := ca.Certificate()
	rootsBefore := ca.Roots()

	require.ErrorIs(t, ca.Untrust(signing), privateca.ErrSigningCA)
	require.NoError(t, ca.Untrust(nil))
	require.NoError(t, ca.Untrust(unknown))
	require.Len(t, ca.BundlePEM(), len(ca.CertPEM())+len(extraPEM), "still both")

	require.NoError(t, ca.Untrust(extra))
	require.Equal(t, ca.CertPEM(), ca.BundlePEM())
	require.True(t, ca.Roots() != rootsBefore, "Roots returns a new pool")
	require.NoError(t, verify(extra, rootsBefore, x509.ExtKeyUsageAny, time.Now()), "the earlier pool is unchanged")
	require.Error(t, verify(extra, ca.Roots(), x509.ExtKeyUsageAny, time.Now()))
}

func TestTrustErrors(t *testing.T) {
	ca := newCA(t, privateca.Config{})
	err := ca.Trust([]byte("nope"))
	var ce *privateca.ConfigError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "Trust certPEM", ce.Field)
}

func mustDER(t *testing.T, certPEM []byte) []byte {
	t.Helper()
	ders, err := certutil.DecodeChain(certPEM)
	require.NoError(t, err)
	return ders[0]
}
