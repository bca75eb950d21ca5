package kvstorage

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrFenced reports a write under "certificates/" refused because this
// Storage may no longer be the only writer: a lock it holds has outlived
// its lease, or the key changed since this Storage read it under the lock
// (another holder wrote it). The value in the bucket is left as it is.
var ErrFenced = errors.New("kvstorage: write fenced: another lock holder may have written since")

// fencedPrefix is the part of the key space whose writes are fenced: the
// certificates, which only a lock holder writes. The ACME account and the
// private CA are written under other locks, or none.
const fencedPrefix = "certificates/"

// contended reports whether err means that another writer won a race on a
// key: the key exists, its revision moved on, or JetStream's "wrong last
// sequence" under either of its codes (10071, or 10164 on a replicated
// stream, which nats.go does not map to ErrKeyExists when a Create loses
// over a delete marker).
func contended(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// see records the revision of a fenced key read or written while this
// Storage holds a lock (0: the key is absent).
func (s *Storage) see(key, enc string, rev uint64) {
	if !strings.HasPrefix(key, fencedPrefix) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.held) > 0 {
		s.seen[enc] = rev
	}
}

// fence returns the revision a fenced write of enc must expect, and
// whether it must expect one; it fails if a held lock has outlived its
// lease.
func (s *Storage) fence(key, enc string, lease time.Duration) (rev uint64, check bool, err error) {
	if !strings.HasPrefix(key, fencedPrefix) {
		return 0, false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.held {
		if !h.valid(lease) {
			return 0, false, ErrFenced
		}
	}
	rev, check = s.seen[enc]
	return rev, check && len(s.held) > 0, nil
}

// put writes value at enc, fenced by the revision read under the lock if
// there is one.
func (s *Storage) put(ctx context.Context, b *buckets, key, enc string, value []byte) error {
	rev, check, err := s.fence(key, enc, b.lease)
	if err != nil {
		return err
	}
	switch {
	case !check:
		rev, err = b.data.Put(ctx, enc, value)
	case rev == 0:
		rev, err = b.data.Create(ctx, enc, value)
	default:
		rev, err = b.data.Update(ctx, enc, value, rev)
	}
	if contended(err) {
		return errors.Join(ErrFenced, err)
	}
	if err != nil {
		return err
	}
	s.see(key, enc, rev)
	return nil
}
