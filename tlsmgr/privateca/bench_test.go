package privateca_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// BenchmarkIssue signs a P-256 leaf for localhost (the key is made once).
func BenchmarkIssue(b *testing.B) {
	ca, err := privateca.New(privateca.Config{})
	require.NoError(b, err)
	key, err := certutil.GenerateKey(certutil.P256)
	require.NoError(b, err)
	names := []string{"localhost", "127.0.0.1", "::1"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ca.Issue(ctx, key, names, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoots is the per-handshake cost of reading the trust bundle.
func BenchmarkRoots(b *testing.B) {
	ca, err := privateca.New(privateca.Config{})
	require.NoError(b, err)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ca.Roots() == nil {
				b.Fatal("nil roots")
			}
		}
	})
}

// TestRootsDoesNotAllocate guards the hot path that BenchmarkRoots measures.
func TestRootsDoesNotAllocate(t *testing.T) {
	ca := newCA(t, privateca.Config{})
	allocs := testing.AllocsPerRun(100, func() { _ = ca.Roots() })
	require.Zero(t, allocs)
}
