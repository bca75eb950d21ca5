package kvstorage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Storage is a [tlsmgr.Storage] kept in a NATS JetStream key-value bucket,
// with its locks in a second bucket whose TTL is the lock lease, so that
// Managers on many hosts share certificates, the ACME account and the
// private CA with no shared disk. Create it with [New]; the zero value is
// not usable. Call [Storage.Close] when done, to stop lock renewals.
//
// Storage is safe for concurrent use.
type Storage struct {
	data   jetstream.KeyValue
	locks  jetstream.KeyValue
	lease  time.Duration
	log    *slog.Logger
	holder string // written into the locks this Storage holds

	// mu guards held and closed.
	mu     sync.Mutex
	held   map[string]*heldLock
	closed bool
}

var _ tlsmgr.Storage = (*Storage)(nil)

// New binds to, or creates, the buckets cfg names, through js. It fails if
// JetStream is unreachable, if cfg is invalid, or if the lock bucket exists
// with a TTL other than a non-zero cfg.LockLease.
func New(ctx context.Context, js jetstream.JetStream, cfg Config) (*Storage, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	data, err := openBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "nats-autotls certificates, keys and accounts",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, err
	}
	locks, lease, err := openLockBucket(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	holder, err := holderID()
	if err != nil {
		return nil, err
	}
	return &Storage{
		data: data, locks: locks, lease: lease, log: cfg.Logger, holder: holder,
		held: make(map[string]*heldLock),
	}, nil
}

// openLockBucket binds to or creates the lock bucket and returns it with
// the lease, its TTL.
func openLockBucket(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.KeyValue, time.Duration, error) {
	lease := cfg.LockLease
	if lease == 0 {
		lease = DefaultLockLease
	}
	kv, err := openBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      cfg.LockBucket,
		Description: "nats-autotls locks",
		History:     1,
		TTL:         lease,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, 0, err
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("kvstorage: lock bucket %q: status: %w", cfg.LockBucket, err)
	}
	ttl := st.TTL()
	switch {
	case cfg.LockLease == 0 && ttl >= MinLockLease:
		return kv, ttl, nil
	case ttl != lease:
		return nil, 0, fmt.Errorf("kvstorage: lock bucket %q has TTL %v, not Config.LockLease %v: "+
			"use the same LockLease on every Storage of the fleet (0 adopts the bucket's), or delete the lock bucket",
			cfg.LockBucket, ttl, cfg.LockLease)
	}
	return kv, lease, nil
}

// openBucket binds to the bucket cfg names, keeping its configuration, or
// creates it with cfg.
func openBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) { // created meanwhile by another Storage
			kv, err = js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("kvstorage: bucket %q: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// holderID names this Storage in the locks it holds: host, process and a
// random part telling apart two Storages of one process.
func holderID() (string, error) {
	host, _ := os.Hostname()
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("kvstorage: holder id: %w", err)
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(r[:])), nil
}

// LockLease returns the lock lease in force: a dead holder's lock is free
// within this time of its last renewal.
func (s *Storage) LockLease() time.Duration { return s.lease }

// Close stops renewing the locks this Storage holds and releases them,
// waiting at most one lease. Lock fails after Close; the other methods
// keep working until the NATS connection closes. Close is idempotent and
// safe to call concurrently with other methods.
func (s *Storage) Close() error {
	s.mu.Lock()
	held := s.held
	s.held = make(map[string]*heldLock)
	s.closed = true
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.lease)
	defer cancel()
	var errs []error
	for name, h := range held {
		errs = append(errs, s.release(ctx, name, h))
	}
	return errors.Join(errs...)
}
