package tlsmgr_test

import (
	"crypto"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestNoSpinWhenIssuedCertificateIsDue: an issuer that keeps returning
// certificates already past their renewal point (a CA whose own
// certificate is about to expire, a caching proxy) must not make the
// renewal loop order again and again without waiting.
func TestNoSpinWhenIssuedCertificateIsDue(t *testing.T) {
	clock := newClock()
	ca := newCA(t, clock, 0)
	caCert, caKey := caSigner(t, ca)
	ti := &testIssuer{RootsIssuer: ca}
	ti.mutate = func(key crypto.Signer, names []string) [][]byte {
		now := clock.Now()
		c := must(makeCert(t, leafSpec{
			names: names, key: key,
			ekus:      []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			notBefore: now.Add(-9 * 24 * time.Hour), notAfter: now.Add(time.Hour),
		}, caCert, caKey))
		return c.Certificate
	}
	m := startManager(t, tlsmgr.Config{PrivateCA: ti, Clock: clock, Storage: tlsmgr.NewMemoryStorage()})
	_, _, err := m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	next := nextTimer(t, clock)
	require.LessOrEqual(t, ti.orders.Load(), int32(2), "orders before the loop waited")
	require.False(t, next.Before(clock.Now().Add(time.Minute)), "next attempt at %v, now %v", next, clock.Now())
}
