package kvstorage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

func TestConfigInvalid(t *testing.T) {
	srv := startServer(t)
	_, js := connect(t, srv)
	tests := []struct {
		name string
		cfg  kvstorage.Config
		want string
	}{
		{"bucket name", kvstorage.Config{Bucket: "a.b"}, `Config.Bucket "a.b"`},
		{"lock bucket name", kvstorage.Config{LockBucket: "a b"}, `Config.LockBucket "a b"`},
		{"same buckets", kvstorage.Config{Bucket: "x", LockBucket: "x"}, `Config.LockBucket "x" is Config.Bucket`},
		{"short lease", kvstorage.Config{LockLease: time.Millisecond}, "Config.LockLease 1ms: use at least 200ms"},
		{"replicas", kvstorage.Config{Replicas: 7}, "Config.Replicas 7: use 1 to 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kvstorage.New(t.Context(), js, tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestLockLeaseIsTheBucketsTTL checks that a second Storage adopts the lock
// bucket's lease when its own is zero, and refuses a different one.
func TestLockLeaseIsTheBucketsTTL(t *testing.T) {
	srv := startServer(t)
	first, _ := newStorage(t, srv, kvstorage.Config{LockLease: 2 * time.Second})
	require.Equal(t, 2*time.Second, first.LockLease())
	adopted, _ := newStorage(t, srv, kvstorage.Config{})
	require.Equal(t, 2*time.Second, adopted.LockLease())

	_, js := connect(t, srv)
	_, err := kvstorage.New(t.Context(), js, kvstorage.Config{LockLease: 5 * time.Second})
	require.ErrorContains(t, err, `lock bucket "nats_autotls_locks" has TTL 2s, not Config.LockLease 5s`)

	fresh, _ := newStorage(t, srv, kvstorage.Config{Bucket: "other"})
	require.Equal(t, kvstorage.DefaultLockLease, fresh.LockLease())
}
