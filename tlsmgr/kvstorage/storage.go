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
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Storage is a [tlsmgr.Storage] kept in a NATS JetStream key-value bucket,
// with its locks in a second bucket whose TTL is the lock lease, so that
// Managers on many hosts share certificates, the ACME account and the
// private CA with no shared disk. It is also a [tlsmgr.Watcher]: a
// certificate one host stores reaches the others in milliseconds. Create
// it with [New]; the zero value is not usable. Call [Storage.Close] when
// done, to stop lock renewals.
//
// Storage is safe for concurrent use.
type Storage struct {
	js     jetstream.JetStream
	cfg    Config // defaults filled
	log    *slog.Logger
	holder string // written into the locks this Storage holds

	// bound holds the buckets once bound (at New, or with
	// Config.AllowOffline at the first call that reaches JetStream).
	bound  atomic.Pointer[buckets]
	bindMu sync.Mutex // serialises binding

	// mu guards held, closed and seen.
	mu     sync.Mutex
	held   map[string]*heldLock
	closed bool
	// seen holds the revisions of certificate keys read or written since
	// the last lock was taken (0: seen absent), for fenced writes.
	seen map[string]uint64
}

// buckets are the two buckets of a bound Storage.
type buckets struct {
	data  jetstream.KeyValue
	locks jetstream.KeyValue
	lease time.Duration
}

var (
	_ tlsmgr.Storage = (*Storage)(nil)
	_ tlsmgr.Watcher = (*Storage)(nil)
)

// New binds to, or creates, the buckets cfg names, through js. It fails if
// cfg is invalid, if the lock bucket exists with a TTL other than a
// non-zero cfg.LockLease, or, unless cfg.AllowOffline is set, if
// JetStream is unreachable.
func New(ctx context.Context, js jetstream.JetStream, cfg Config) (*Storage, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	holder, err := holderID()
	if err != nil {
		return nil, err
	}
	s := &Storage{
		js: js, cfg: cfg, log: cfg.Logger, holder: holder,
		held: make(map[string]*heldLock), seen: make(map[string]uint64),
	}
	if _, err := s.buckets(ctx); err != nil && (!cfg.AllowOffline || errors.Is(err, errBucketConfig)) {
		return nil, err
	}
	return s, nil
}

// errBucketConfig marks a bucket whose configuration conflicts with
// Config: retrying cannot fix it.
var errBucketConfig = errors.New("bucket configuration conflicts with Config")

// ErrOffline reports a call made while the NATS connection is down: it
// fails at once rather than wait for a reconnection.
var ErrOffline = errors.New("kvstorage: NATS connection is down")

// buckets returns the bound buckets, binding them first if needed. It
// fails at once with [ErrOffline] while the connection is down.
func (s *Storage) buckets(ctx context.Context) (*buckets, error) {
	if nc := s.js.Conn(); nc != nil && !nc.IsConnected() {
		return nil, ErrOffline
	}
	if b := s.bound.Load(); b != nil {
		return b, nil
	}
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	if b := s.bound.Load(); b != nil {
		return b, nil
	}
	b, err := bind(ctx, s.js, s.cfg)
	if err != nil {
		return nil, err
	}
	s.bound.Store(b)
	return b, nil
}

// bind opens, or creates, both buckets.
func bind(ctx context.Context, js jetstream.JetStream, cfg Config) (*buckets, error) {
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
	return &buckets{data: data, locks: locks, lease: lease}, nil
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
			"use the same LockLease on every Storage of the fleet (0 adopts the bucket's), or delete the lock bucket: %w",
			cfg.LockBucket, ttl, cfg.LockLease, errBucketConfig)
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
// within this time of its last renewal. Before the buckets are bound (see
// [Config.AllowOffline]) it is Config.LockLease, or [DefaultLockLease].
func (s *Storage) LockLease() time.Duration {
	if b := s.bound.Load(); b != nil {
		return b.lease
	}
	if s.cfg.LockLease != 0 {
		return s.cfg.LockLease
	}
	return DefaultLockLease
}

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
	ctx, cancel := context.WithTimeout(context.Background(), s.LockLease())
	defer cancel()
	var errs []error
	for name, h := range held {
		errs = append(errs, s.release(ctx, name, h))
	}
	return errors.Join(errs...)
}

// observe notes err, returned by an operation on b: if it says that the
// buckets are gone (a server that came back with an empty store), the
// next call binds them again, creating them. It returns err.
func (s *Storage) observe(b *buckets, err error) error {
	if err != nil && bucketGone(err) {
		if s.bound.CompareAndSwap(b, nil) {
			s.log.Warn("kvstorage: bucket gone; it will be bound again, and created if missing", "bucket", s.cfg.Bucket, "error", err)
		}
	}
	return err
}

// bucketGone reports whether err means that a bucket's stream does not
// exist (any more).
func bucketGone(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, nats.ErrStreamNotFound) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrBucketNotFound)
}
