package kvstorage_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// TestLongKeysRefused checks that a key whose subject the server could not
// take is refused with a clear error before it is sent, and that the
// connection survives: a key at the limit still works.
func TestLongKeysRefused(t *testing.T) {
	srv := startServer(t)
	s, nc := newStorage(t, srv, kvstorage.Config{LockLease: testLease})
	ctx := t.Context()
	atLimit := "certificates/" + strings.Repeat("a", kvstorage.MaxKeyLen-len("certificates/"))
	tooLong := atLimit[:len(atLimit)-2] + ".." // two escaped bytes: 4 over
	tests := []struct {
		name string
		call func() error
	}{
		{"store", func() error { return s.Store(ctx, tooLong, []byte("x")) }},
		{"load", func() error { _, err := s.Load(ctx, tooLong); return err }},
		{"stat", func() error { _, err := s.Stat(ctx, tooLong); return err }},
		{"delete", func() error { return s.Delete(ctx, tooLong) }},
		{"lock", func() error { return s.Lock(ctx, tooLong) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var tl *kvstorage.KeyTooLongError
			require.ErrorAs(t, err, &tl)
			require.ErrorContains(t, err, "over the limit of 3000")
		})
	}
	require.NoError(t, s.Store(ctx, atLimit, []byte("x")), "a key at the limit is stored")
	got, err := s.Load(ctx, atLimit)
	require.NoError(t, err)
	require.Equal(t, "x", string(got))
	require.True(t, nc.IsConnected(), "the connection survived")
}

// TestLockWaitsOutAnOutage opens a Storage with AllowOffline while its
// server is down: New succeeds, calls fail fast with ErrOffline, and a
// Lock started during the outage succeeds once the server is back.
func TestLockWaitsOutAnOutage(t *testing.T) {
	dir, port := t.TempDir(), freePort(t)
	opts := &server.Options{Host: "127.0.0.1", Port: port, NoSigs: true, NoLog: true, JetStream: true, StoreDir: dir}
	nc, err := nats.Connect(opts.Host+":"+itoa(port), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1),
		nats.ReconnectWait(20*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	s, err := kvstorage.New(t.Context(), js, kvstorage.Config{AllowOffline: true, LockLease: testLease})
	require.NoError(t, err, "New succeeds offline")
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Load(t.Context(), "certificates/x.json")
	require.ErrorIs(t, err, kvstorage.ErrOffline)

	locked := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		locked <- s.Lock(ctx, "outage")
	}()
	srv, err := server.NewServer(opts)
	require.NoError(t, err)
	srv.Start()
	t.Cleanup(srv.Shutdown)
	require.True(t, srv.ReadyForConnections(10*time.Second))
	require.NoError(t, <-locked, "the lock is taken once JetStream is back")
	require.NoError(t, s.Unlock(t.Context(), "outage"))
}

// TestLockGivesUpWithTheLastError checks that a Lock that cannot reach
// JetStream fails only when its context ends, naming the last failure.
func TestLockGivesUpWithTheLastError(t *testing.T) {
	nc, err := nats.Connect("127.0.0.1:"+itoa(freePort(t)), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	s, err := kvstorage.New(t.Context(), js, kvstorage.Config{AllowOffline: true})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err = s.Lock(ctx, "x")
	require.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	require.ErrorContains(t, err, "last attempt: kvstorage: NATS connection is down")
}

// TestHolderWritesAreFenced: a lock holder that read a certificate under
// its lock must not overwrite it once another writer changed it (the
// holder lost its lease and another took over), nor write once its own
// lease ran out; writes outside "certificates/" and writes with no lock
// held are plain puts.
func TestHolderWritesAreFenced(t *testing.T) {
	srv := startServer(t)
	cfg := kvstorage.Config{LockLease: testLease}
	holder, _ := newStorage(t, srv, cfg)
	other, _ := newStorage(t, srv, cfg)
	ctx := t.Context()
	const key = "certificates/ca/nats.example.com.json"
	require.NoError(t, other.Store(ctx, key, []byte("v1")))

	require.NoError(t, holder.Lock(ctx, "cert"))
	_, err := holder.Load(ctx, key)
	require.NoError(t, err)
	require.NoError(t, holder.Store(ctx, key, []byte("v2")), "nothing changed since the read")
	require.NoError(t, other.Store(ctx, key, []byte("taken over")))
	require.ErrorIs(t, holder.Store(ctx, key, []byte("stale")), kvstorage.ErrFenced)
	got, err := other.Load(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "taken over", string(got), "the fenced write changed nothing")
	require.NoError(t, holder.Store(ctx, "acme/account.json", []byte("a")), "only certificates are fenced")
	require.NoError(t, holder.Unlock(ctx, "cert"))
	require.NoError(t, holder.Store(ctx, key, []byte("v3")), "no lock held: a plain put")
}
