package kvstorage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Load returns the value stored at key, or an error matching
// [fs.ErrNotExist].
func (s *Storage) Load(ctx context.Context, key string) ([]byte, error) {
	if err := tlsmgr.CheckKey(key); err != nil {
		return nil, fmt.Errorf("kvstorage: load: %w", err)
	}
	e, err := s.data.Get(ctx, encodeKey(key))
	if err != nil {
		return nil, fmt.Errorf("kvstorage: load %q: %w", key, notExist(err))
	}
	return e.Value(), nil
}

// Store writes value at key in one KV put, which readers see whole or not
// at all. Like a file system, it refuses a key under a value ("a/b/c" when
// "a/b" is a value) and a key that holds others ("a" when "a/b" exists);
// these checks are separate reads, not atomic with the put.
func (s *Storage) Store(ctx context.Context, key string, value []byte) error {
	if err := tlsmgr.CheckKey(key); err != nil {
		return fmt.Errorf("kvstorage: store: %w", err)
	}
	if err := s.checkStore(ctx, key); err != nil {
		return fmt.Errorf("kvstorage: store %q: %w", key, err)
	}
	if _, err := s.data.Put(ctx, encodeKey(key), value); err != nil {
		return fmt.Errorf("kvstorage: store %q: %w", key, err)
	}
	return nil
}

// checkStore refuses to store a value under a value or at a directory.
func (s *Storage) checkStore(ctx context.Context, key string) error {
	for parent := range tlsmgr.ParentKeys(key) {
		isValue, err := s.isValue(ctx, parent)
		if err != nil {
			return err
		}
		if isValue {
			return fmt.Errorf("%q is a value, not a directory", parent)
		}
	}
	under, err := s.keysUnder(ctx, encodeKey(key)+".>")
	if err != nil {
		return err
	}
	if len(under) > 0 {
		return fmt.Errorf("%q is a directory", key)
	}
	return nil
}

// isValue reports whether a value is stored at key.
func (s *Storage) isValue(ctx context.Context, key string) (bool, error) {
	_, err := s.data.Get(ctx, encodeKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Delete removes key and, if key holds other keys, all of them, purging
// their history. Deleting a missing key is not an error.
func (s *Storage) Delete(ctx context.Context, key string) error {
	if err := tlsmgr.CheckKey(key); err != nil {
		return fmt.Errorf("kvstorage: delete: %w", err)
	}
	enc := encodeKey(key)
	keys, err := s.keysUnder(ctx, enc, enc+".>")
	if err != nil {
		return fmt.Errorf("kvstorage: delete %q: %w", key, err)
	}
	for _, k := range keys {
		if err := s.data.Purge(ctx, k); err != nil {
			return fmt.Errorf("kvstorage: delete %q: purge %q: %w", key, k, err)
		}
	}
	return nil
}

// List returns, sorted, the keys directly under prefix ("" for the root),
// values and directories alike, or with recursive true every value under
// prefix at any depth. A prefix that holds nothing is reported as an error
// matching [fs.ErrNotExist], except the root, which is then empty; a prefix
// that is a value is an error.
func (s *Storage) List(ctx context.Context, prefix string, recursive bool) ([]string, error) {
	if err := tlsmgr.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("kvstorage: list: %w", err)
	}
	filter, dir := ">", ""
	if prefix != "" {
		filter, dir = encodeKey(prefix)+".>", prefix+"/"
		isValue, err := s.isValue(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("kvstorage: list %q: %w", prefix, err)
		}
		if isValue {
			return nil, fmt.Errorf("kvstorage: list %q: a value, not a directory", prefix)
		}
	}
	encoded, err := s.keysUnder(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("kvstorage: list %q: %w", prefix, err)
	}
	keys := s.children(encoded, dir, recursive)
	if len(keys) == 0 && prefix != "" {
		return nil, fmt.Errorf("kvstorage: list %q: %w", prefix, fs.ErrNotExist)
	}
	return keys, nil
}

// children decodes the KV keys under dir and returns, sorted and without
// duplicates, every one of them if recursive, else their first segments
// after dir.
func (s *Storage) children(encoded []string, dir string, recursive bool) []string {
	keys := make([]string, 0, len(encoded))
	for _, enc := range encoded {
		k, err := decodeKey(enc)
		if err != nil {
			s.log.Warn("kvstorage: skipping a foreign key", "bucket", s.data.Bucket(), "error", err)
			continue
		}
		if !recursive {
			first, _, _ := strings.Cut(strings.TrimPrefix(k, dir), "/")
			k = dir + first
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// Stat describes key. A key that holds other keys has IsTerminal false,
// Size 0 and a zero Modified time; a value's Modified is when it was put.
func (s *Storage) Stat(ctx context.Context, key string) (tlsmgr.KeyInfo, error) {
	if err := tlsmgr.CheckKey(key); err != nil {
		return tlsmgr.KeyInfo{}, fmt.Errorf("kvstorage: stat: %w", err)
	}
	enc := encodeKey(key)
	e, err := s.data.Get(ctx, enc)
	if err == nil {
		return tlsmgr.KeyInfo{Key: key, Modified: e.Created(), Size: int64(len(e.Value())), IsTerminal: true}, nil
	}
	if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return tlsmgr.KeyInfo{}, fmt.Errorf("kvstorage: stat %q: %w", key, err)
	}
	under, err := s.keysUnder(ctx, enc+".>")
	if err != nil {
		return tlsmgr.KeyInfo{}, fmt.Errorf("kvstorage: stat %q: %w", key, err)
	}
	if len(under) == 0 {
		return tlsmgr.KeyInfo{}, fmt.Errorf("kvstorage: stat %q: %w", key, fs.ErrNotExist)
	}
	return tlsmgr.KeyInfo{Key: key}, nil
}

// keysUnder returns the KV keys holding a value that match any of filters.
func (s *Storage) keysUnder(ctx context.Context, filters ...string) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the lister if we return early
	lister, err := s.data.ListKeysFiltered(ctx, filters...)
	if err != nil {
		return nil, err
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	// The lister closes its channel both when done and when ctx ends.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return keys, nil
}

// notExist maps the bucket's missing key to [fs.ErrNotExist].
func notExist(err error) error {
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return fs.ErrNotExist
	}
	return err
}
