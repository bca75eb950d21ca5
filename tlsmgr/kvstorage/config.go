package kvstorage

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"
)

const (
	// DefaultBucket is the bucket of values when [Config.Bucket] is empty.
	DefaultBucket = "nats_autotls"
	// DefaultLockLease is the lock lease of a new lock bucket when
	// [Config.LockLease] is zero.
	DefaultLockLease = 10 * time.Second
	// MinLockLease is the shortest [Config.LockLease] accepted.
	MinLockLease = 200 * time.Millisecond
)

// Config configures a [Storage]. The zero value is valid. [New] copies it;
// changing it afterwards has no effect.
type Config struct {
	// Bucket is the JetStream key-value bucket holding the values
	// (certificates, keys, the ACME account, the private CA). New binds to
	// it if it exists, keeping its configuration, or creates it with one
	// revision of history (an overwritten key is gone, not kept as history)
	// and file storage. Every Manager of a fleet must use the same bucket.
	// If empty, [DefaultBucket]. Letters, digits, '-' and '_' only.
	Bucket string

	// LockBucket is the key-value bucket holding the locks, whose TTL is
	// the lock lease. New binds to it if it exists, or creates it.
	// If empty, Bucket + "_locks".
	LockBucket string

	// LockLease is how long a lock outlives its holder's last renewal: the
	// holder renews every LockLease/3, and a holder that dies loses the lock
	// within LockLease. It is the TTL of the lock bucket, so every Storage
	// of a fleet must use the same one: New fails if the existing lock
	// bucket's TTL differs. Zero means the existing lock bucket's TTL, or
	// [DefaultLockLease] for a new one. At least [MinLockLease].
	LockLease time.Duration

	// Replicas is the number of JetStream replicas of buckets New creates
	// (existing buckets keep theirs), 1 to 5. Zero means 1; use 3 on a
	// JetStream cluster so that losing a server loses no certificate.
	Replicas int

	// AllowOffline makes New succeed when JetStream cannot be reached: the
	// buckets are then bound by the first call that reaches it, and calls
	// fail until then (Lock keeps retrying until its context ends). A
	// Manager with a [tlsmgr.Config].Cache starts and serves from its cache
	// meanwhile. A lock bucket whose TTL conflicts with LockLease still
	// fails New if JetStream is reachable. False means New fails.
	AllowOffline bool
	// Logger receives lock renewal failures and skipped foreign keys.
	// If nil, nothing is logged.
	Logger *slog.Logger
}

// bucketName is what JetStream accepts as a bucket name.
var bucketName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// withDefaults validates cfg and fills its defaults, except LockLease,
// which depends on the lock bucket.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	if cfg.LockBucket == "" {
		cfg.LockBucket = cfg.Bucket + "_locks"
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case !bucketName.MatchString(cfg.Bucket):
		return cfg, fmt.Errorf("kvstorage: Config.Bucket %q: use letters, digits, '-' and '_' only", cfg.Bucket)
	case !bucketName.MatchString(cfg.LockBucket):
		return cfg, fmt.Errorf("kvstorage: Config.LockBucket %q: use letters, digits, '-' and '_' only", cfg.LockBucket)
	case cfg.LockBucket == cfg.Bucket:
		return cfg, fmt.Errorf("kvstorage: Config.LockBucket %q is Config.Bucket: use another bucket, or leave it empty for %q",
			cfg.LockBucket, cfg.Bucket+"_locks")
	case cfg.LockLease != 0 && cfg.LockLease < MinLockLease:
		return cfg, fmt.Errorf("kvstorage: Config.LockLease %v: use at least %v, or 0 for %v", cfg.LockLease, MinLockLease, DefaultLockLease)
	case cfg.Replicas < 1 || cfg.Replicas > 5:
		return cfg, fmt.Errorf("kvstorage: Config.Replicas %d: use 1 to 5, or 0 for 1", cfg.Replicas)
	}
	return cfg, nil
}
