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
	enc, err := checkedKey(key)
	if err != nil {
		return nil, fmt.Errorf("kvstorage: load: %w", err)
	}
	b, err := s.buckets(ctx)
	if err != nil {
		return nil, fmt.Errorf("kvstorage: load %q: %w", key, err)
	}
	e, err := b.data.Get(ctx, enc)
	s.observe(b, err)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		s.see(key, enc, 0)
	case err == nil:
		s.see(key, enc, e.Revision())
	}
	if err != nil {
		return nil, fmt.Errorf("kvstorage: load %q: %w", key, notExist(err))
	}
	return e.Value(), nil
}

// Store writes value at key in one KV put, which readers see whole or not
// at all. Like a file system, it refuses a key under a value ("a/b/c" when
// "a/b" is a value) and a key that holds others ("a" when "a/b" exists);
// these checks are separate reads, not atomic with the put.
//
// While this Storage holds a lock, a write under "certificates/" is
// fenced: it fails with an error matching [ErrFenced] if a held lock's
// lease has run out, or if the key changed since this Storage read it
// under the lock, so that a holder that lost its lock never overwrites
// the certificate of the holder that took it over.
func (s *Storage) Store(ctx context.Context, key string, value []byte) error {
	enc, err := checkedKey(key)
	if err != nil {
		return fmt.Errorf("kvstorage: store: %w", err)
	}
	b, err := s.buckets(ctx)
	if err != nil {
		return fmt.Errorf("kvstorage: store %q: %w", key, err)
	}
	if err := s.observe(b, s.checkStore(ctx, b, key)); err != nil {
		return fmt.Errorf("kvstorage: store %q: %w", key, err)
	}
	if err := s.observe(b, s.put(ctx, b, key, enc, value)); err != nil {
		return fmt.Errorf("kvstorage: store %q: %w", key, err)
	}
	return nil
}

// checkStore refuses to store a value under a value or at a directory.
func (s *Storage) checkStore(ctx context.Context, b *buckets, key string) error {
	for parent := range tlsmgr.ParentKeys(key) {
		isValue, err := isValue(ctx, b, parent)
		if err != nil {
			return err
		}
		if isValue {
			return fmt.Errorf("%q is a value, not a directory", parent)
		}
	}
	under, err := keysUnder(ctx, b, encodeKey(key)+".>")
	if err != nil {
		return err
	}
	if len(under) > 0 {
		return fmt.Errorf("%q is a directory", key)
	}
	return nil
}

// isValue reports whether a value is stored at key.
func isValue(ctx context.Context, b *buckets, key string) (bool, error) {
	_, err := b.data.Get(ctx, encodeKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Delete removes key and, if key holds other keys, all of them, purging
// their history. Deleting a missing key is not an error.
func (s *Storage) Delete(ctx context.Context, key string) error {
	enc, err := checkedKey(key)
	if err != nil {
		return fmt.Errorf("kvstorage: delete: %w", err)
	}
	b, err := s.buckets(ctx)
	if err != nil {
		return fmt.Errorf("kvstorage: delete %q: %w", key, err)
	}
	keys, err := keysUnder(ctx, b, enc, enc+".>")
	if err := s.observe(b, err); err != nil {
		return fmt.Errorf("kvstorage: delete %q: %w", key, err)
	}
	for _, k := range keys {
		if err := b.data.Purge(ctx, k); err != nil {
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
	b, err := s.buckets(ctx)
	if err != nil {
		return nil, fmt.Errorf("kvstorage: list %q: %w", prefix, err)
	}
	filter, dir := ">", ""
	if prefix != "" {
		enc, err := checkedKey(prefix)
		if err != nil {
			return nil, fmt.Errorf("kvstorage: list: %w", err)
		}
		filter, dir = enc+".>", prefix+"/"
		isValue, err := isValue(ctx, b, prefix)
		if err != nil {
			return nil, fmt.Errorf("kvstorage: list %q: %w", prefix, err)
		}
		if isValue {
			return nil, fmt.Errorf("kvstorage: list %q: a value, not a directory", prefix)
		}
	}
	encoded, err := keysUnder(ctx, b, filter)
	if err := s.observe(b, err); err != nil {
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
			s.log.Warn("kvstorage: skipping a foreign key", "bucket", s.cfg.Bucket, "error", err)
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
	enc, err := checkedKey(key)
	if err != nil {
		return tlsmgr.KeyInfo{}, fmt.Errorf("kvstorage: stat: %w", err)
	}
	b, err := s.buckets(ctx)
	if err != nil {
		return tlsmgr.KeyInfo{}, fmt.Errorf("kvstorage: stat %q: %w", key, err)
	}
	e, err := b.data.Get(ctx, enc)
	s.observe(b, err)
	if err == nil {
		return tlsmgr.KeyInfo{Key: key, Modified: e.Created(), Size: int64(len(e.Value())), IsTerminal: true}, nil
	}
	if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return tlsmgr.KeyInfo{}, fmt.Errorf("kvstorage: stat %q: %w", key, err)
	}
	under, err := keysUnder(ctx, b, enc+".>")
	if err != nil {
		return tlsmgr.KeyInfo{}, fmt.Errorf("kvstorage: stat %q: %w", key, err)
	}
	if len(under) == 0 {
		return tlsmgr.KeyInfo{}, fmt.Errorf("kvstorage: stat %q: %w", key, fs.ErrNotExist)
	}
	return tlsmgr.KeyInfo{Key: key}, nil
}

// keysUnder returns the KV keys holding a value that match any of filters.
func keysUnder(ctx context.Context, b *buckets, filters ...string) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the lister if we return early
	lister, err := b.data.ListKeysFiltered(ctx, filters...)
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
