package tlsmgr

import (
	"context"
	"time"
)

// Storage keeps certificates, keys, the private CA and ACME accounts. It is
// a key-value store whose keys are slash-separated paths such as
// "certificates/acme-v02.api.letsencrypt.org-directory/nats.example.com.json".
// A missing key is reported as an error matching [io/fs.ErrNotExist].
//
// Storage may be shared by several Managers, in one process or many (a
// shared directory, or a networked key-value store): [Storage.Lock] keeps
// them from ordering the same certificate twice.
//
// Implementations must be safe for concurrent use.
type Storage interface {
	// Load returns the value stored at key.
	Load(ctx context.Context, key string) ([]byte, error)
	// Store writes value at key atomically: a reader sees the old value or
	// the new one, never a part.
	Store(ctx context.Context, key string, value []byte) error
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys under prefix; with recursive false only its
	// direct children.
	List(ctx context.Context, prefix string, recursive bool) ([]string, error)
	// Stat describes key.
	Stat(ctx context.Context, key string) (KeyInfo, error)
	// Lock blocks until it holds the lock called name or ctx ends. The lock
	// is a lease: the implementation renews it while held, and it expires
	// within a bounded time if the holder dies, so that another holder can
	// take it over.
	Lock(ctx context.Context, name string) error
	// Unlock releases a lock taken by Lock.
	Unlock(ctx context.Context, name string) error
}

// KeyInfo describes a stored key.
type KeyInfo struct {
	Key        string    // the key described
	Modified   time.Time // when its value was last stored
	Size       int64     // the value's length in bytes; 0 for a "directory"
	IsTerminal bool      // false for a "directory" holding other keys
}
