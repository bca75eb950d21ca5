package tlsmgr

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemoryStorage is a [Storage] that keeps everything in memory: nothing
// survives the process. It suits tests and ephemeral servers. Create it with
// [NewMemoryStorage]; the zero value is not usable.
//
// Its keys follow the same rules as [FileStorage]: a key that is a value
// cannot also hold other keys, and a key that holds others cannot be a
// value. Locks are process-local; since a holder cannot die without the
// whole storage dying with it, a lock lasts until [MemoryStorage.Unlock].
//
// MemoryStorage is safe for concurrent use.
type MemoryStorage struct {
	// mu guards values and locks.
	mu     sync.Mutex
	values map[string]memValue
	// locks maps each held lock name to a channel closed on Unlock.
	locks map[string]chan struct{}
}

// memValue is one stored value and when it was written.
type memValue struct {
	data     []byte
	modified time.Time
}

// NewMemoryStorage returns an empty in-memory Storage.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{
		values: make(map[string]memValue),
		locks:  make(map[string]chan struct{}),
	}
}

var _ Storage = (*MemoryStorage)(nil)

// Load returns a copy of the value stored at key, or an error matching
// [fs.ErrNotExist].
func (s *MemoryStorage) Load(ctx context.Context, key string) ([]byte, error) {
	if err := memCheck(ctx, "load", key); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	if !ok {
		return nil, fmt.Errorf("tlsmgr: memory storage: load %q: %w", key, fs.ErrNotExist)
	}
	return slices.Clone(v.data), nil
}

// Store keeps a copy of value at key, replacing any previous value.
func (s *MemoryStorage) Store(ctx context.Context, key string, value []byte) error {
	if err := memCheck(ctx, "store", key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkStoreLocked(key); err != nil {
		return fmt.Errorf("tlsmgr: memory storage: store %q: %w", key, err)
	}
	s.values[key] = memValue{data: slices.Clone(value), modified: time.Now()}
	return nil
}

// checkStoreLocked refuses to store a value at a key that holds other keys
// or under a key that is a value, as a file system would.
func (s *MemoryStorage) checkStoreLocked(key string) error {
	for parent := range ParentKeys(key) {
		if _, ok := s.values[parent]; ok {
			return fmt.Errorf("%q is a value, not a directory", parent)
		}
	}
	if s.hasChildrenLocked(key) {
		return fmt.Errorf("%q is a directory", key)
	}
	return nil
}

// hasChildrenLocked reports whether some key lies under key.
func (s *MemoryStorage) hasChildrenLocked(key string) bool {
	dir := key + "/"
	for k := range s.values {
		if strings.HasPrefix(k, dir) {
			return true
		}
	}
	return false
}

// Delete removes key and, if key holds other keys, all of them. Deleting a
// missing key is not an error.
func (s *MemoryStorage) Delete(ctx context.Context, key string) error {
	if err := memCheck(ctx, "delete", key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := key + "/"
	for k := range s.values {
		if k == key || strings.HasPrefix(k, dir) {
			delete(s.values, k)
		}
	}
	return nil
}

// List returns, sorted, the keys directly under prefix ("" for the root),
// values and directories alike, or with recursive true every value under
// prefix at any depth. A prefix that holds nothing is reported as an error
// matching [fs.ErrNotExist], except the root, which is then empty.
func (s *MemoryStorage) List(ctx context.Context, prefix string, recursive bool) ([]string, error) {
	if err := CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("tlsmgr: memory storage: list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tlsmgr: memory storage: list %q: %w", prefix, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.values[prefix]; ok {
		return nil, fmt.Errorf("tlsmgr: memory storage: list %q: a value, not a directory", prefix)
	}
	keys := s.listLocked(prefix, recursive)
	if len(keys) == 0 && prefix != "" {
		return nil, fmt.Errorf("tlsmgr: memory storage: list %q: %w", prefix, fs.ErrNotExist)
	}
	return keys, nil
}

// listLocked collects the keys List returns.
func (s *MemoryStorage) listLocked(prefix string, recursive bool) []string {
	dir := prefix
	if dir != "" {
		dir += "/"
	}
	seen := make(map[string]bool)
	for k := range s.values {
		rest, ok := strings.CutPrefix(k, dir)
		if !ok {
			continue
		}
		if !recursive {
			first, _, _ := strings.Cut(rest, "/")
			k = dir + first
		}
		seen[k] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Stat describes key. A key that holds other keys has IsTerminal false,
// Size 0 and a zero Modified time.
func (s *MemoryStorage) Stat(ctx context.Context, key string) (KeyInfo, error) {
	if err := memCheck(ctx, "stat", key); err != nil {
		return KeyInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.values[key]; ok {
		return KeyInfo{Key: key, Modified: v.modified, Size: int64(len(v.data)), IsTerminal: true}, nil
	}
	if s.hasChildrenLocked(key) {
		return KeyInfo{Key: key}, nil
	}
	return KeyInfo{}, fmt.Errorf("tlsmgr: memory storage: stat %q: %w", key, fs.ErrNotExist)
}

// Lock blocks until it holds the lock called name or ctx ends. Lock names
// follow the rules of keys but live apart from them.
func (s *MemoryStorage) Lock(ctx context.Context, name string) error {
	if err := CheckKey(name); err != nil {
		return fmt.Errorf("tlsmgr: memory storage: lock: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tlsmgr: memory storage: lock %q: %w", name, err)
	}
	for {
		s.mu.Lock()
		released, held := s.locks[name]
		if !held {
			s.locks[name] = make(chan struct{})
		}
		s.mu.Unlock()
		if !held {
			return nil
		}
		select {
		case <-released:
		case <-ctx.Done():
			return fmt.Errorf("tlsmgr: memory storage: lock %q: %w", name, ctx.Err())
		}
	}
}

// Unlock releases the lock called name, waking its waiters. Unlocking a
// lock that is not held is an error.
func (s *MemoryStorage) Unlock(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	released, held := s.locks[name]
	if !held {
		return fmt.Errorf("tlsmgr: memory storage: unlock %q: not locked", name)
	}
	delete(s.locks, name)
	close(released)
	return nil
}

// memCheck validates key and ctx for operation op.
func memCheck(ctx context.Context, op, key string) error {
	if err := CheckKey(key); err != nil {
		return fmt.Errorf("tlsmgr: memory storage: %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tlsmgr: memory storage: %s %q: %w", op, key, err)
	}
	return nil
}
