package kvstorage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// BenchmarkStartWithStoredCertificates measures Start of a Manager whose
// certificate is not stored yet, on a storage holding 1, 100 or 1,000
// certificates of other names, on a FileStorage and on a bucket. Start
// must not depend on that number: compare the ns/op of the three sizes.
// Start runs with StartInBackground, so that the order that follows is
// not measured.
func BenchmarkStartWithStoredCertificates(b *testing.B) {
	ca := newCA(b)
	srv := startServer(b)
	backends := []struct {
		name string
		open func(b *testing.B) tlsmgr.Storage
	}{
		{"file", func(b *testing.B) tlsmgr.Storage { return tlsmgr.NewFileStorage(b.TempDir()) }},
		{"kv", func(b *testing.B) tlsmgr.Storage {
			s, _ := newStorage(b, srv, kvstorage.Config{Bucket: fmt.Sprintf("bench%d", time.Now().UnixNano())})
			return s
		}},
	}
	for _, be := range backends {
		for _, n := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("%s/stored=%d", be.name, n), func(b *testing.B) {
				storage := be.open(b)
				fill(b, storage, ca, n)
				b.ResetTimer()
				for i := range b.N {
					m, err := tlsmgr.New(tlsmgr.Config{
						Names: []string{fmt.Sprintf("new%d.example.com", i)}, PrivateCA: ca, Storage: storage, StartInBackground: true,
					})
					require.NoError(b, err)
					require.NoError(b, m.Start(context.Background()))
					b.StopTimer()
					require.NoError(b, m.Close())
					b.StartTimer()
				}
			})
		}
	}
}

// fill stores n certificates for other names, each as a Manager stores
// it, by copying one Manager's stored certificate under n keys.
func fill(b *testing.B, storage tlsmgr.Storage, ca tlsmgr.RootsIssuer, n int) {
	b.Helper()
	m, err := tlsmgr.New(tlsmgr.Config{Names: []string{"stored.example.com"}, PrivateCA: ca, Storage: storage})
	require.NoError(b, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(b, m.Start(ctx))
	require.NoError(b, m.Close())
	keys, err := storage.List(ctx, "certificates", true)
	require.NoError(b, err)
	require.Len(b, keys, 1)
	data, err := storage.Load(ctx, keys[0])
	require.NoError(b, err)
	for i := 1; i < n; i++ {
		require.NoError(b, storage.Store(ctx, fmt.Sprintf("%s-copy%d.json", keys[0][:len(keys[0])-len(".json")], i), data))
	}
}
