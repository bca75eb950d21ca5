package kvstorage_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// countingIssuer counts the orders it passes to a private CA.
type countingIssuer struct {
	*privateca.CA
	orders atomic.Int32
}

func (ci *countingIssuer) Issue(ctx context.Context, key crypto.Signer, names []string, replaces *x509.Certificate) ([][]byte, error) {
	ci.orders.Add(1)
	return ci.CA.Issue(ctx, key, names, replaces)
}

// TestManagersShareOneOrder starts two Managers at once, each on its own
// Storage over its own NATS connection to one bucket, as two hosts of a
// fleet would, and checks that they make one order between them and serve
// the same certificate.
func TestManagersShareOneOrder(t *testing.T) {
	tests := []struct {
		name   string
		issuer *countingIssuer // nil: the default private CA, kept in the bucket
	}{
		{"shared issuer", &countingIssuer{CA: newCA(t)}},
		{"default private CA in the bucket", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t)
			managers := make([]*tlsmgr.Manager, 2)
			for i := range managers {
				storage, _ := newStorage(t, srv, kvstorage.Config{LockLease: testLease})
				cfg := tlsmgr.Config{Storage: storage, Names: []string{"nats.example.com"}}
				if tt.issuer != nil {
					cfg.PrivateCA = tt.issuer
				}
				m, err := tlsmgr.New(cfg)
				require.NoError(t, err)
				t.Cleanup(func() { require.NoError(t, m.Close()) })
				managers[i] = m
			}
			startAll(t, managers)

			if tt.issuer != nil {
				require.Equal(t, int32(1), tt.issuer.orders.Load(), "one order for the fleet")
			}
			require.Equal(t, managers[0].TrustBundlePEM(), managers[1].TrustBundlePEM(), "one CA for the fleet")
			a, _, err := managers[0].Current(tlsmgr.RoleClient)
			require.NoError(t, err)
			b, _, err := managers[1].Current(tlsmgr.RoleClient)
			require.NoError(t, err)
			require.Equal(t, a.Leaf.SerialNumber, b.Leaf.SerialNumber, "one certificate for the fleet")
		})
	}
}

// startAll starts managers concurrently and waits for all of them.
func startAll(t *testing.T, managers []*tlsmgr.Manager) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	errs := make([]error, len(managers))
	var wg sync.WaitGroup
	for i, m := range managers {
		wg.Go(func() { errs[i] = m.Start(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

// newCA returns a fresh private CA.
func newCA(t testing.TB) *privateca.CA {
	t.Helper()
	ca, err := privateca.New(privateca.Config{})
	require.NoError(t, err)
	return ca
}
