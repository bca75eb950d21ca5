package kvstorage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// heldLock is a lock this Storage holds and the goroutine renewing it.
type heldLock struct {
	enc    string             // the lock's KV key
	cancel context.CancelFunc // stops the renewal
	done   chan struct{}      // closed when the renewal has stopped

	// mu guards rev and lost.
	mu   sync.Mutex
	rev  uint64 // revision of the last create or renewal
	lost bool   // a renewal found the lock taken or gone
}

// Lock blocks until it holds the lock called name or ctx ends. It creates
// the lock's key in the lock bucket, which only one Storage can do; a
// goroutine then renews it every lease/3 until Unlock or Close. While
// another holder has it, Lock watches the key for its release and polls
// every lease/10 (at least 50 ms) for its expiry. Lock names follow the
// rules of keys but live apart from them.
func (s *Storage) Lock(ctx context.Context, name string) error {
	if err := tlsmgr.CheckKey(name); err != nil {
		return fmt.Errorf("kvstorage: lock: %w", err)
	}
	enc := encodeKey(name)
	var w *lockWaiter
	defer func() { w.stop() }()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("kvstorage: lock %q: %w", name, err)
		}
		rev, err := s.locks.Create(ctx, enc, []byte(s.holder))
		switch {
		case err == nil:
			return s.hold(ctx, name, enc, rev)
		case ctx.Err() != nil:
			return fmt.Errorf("kvstorage: lock %q: %w", name, ctx.Err())
		case !errors.Is(err, jetstream.ErrKeyExists):
			return fmt.Errorf("kvstorage: lock %q: %w", name, err)
		case w == nil: // held: watch for its release, then try again at once
			if w, err = s.newLockWaiter(ctx, enc); err != nil {
				return fmt.Errorf("kvstorage: lock %q: watch: %w", name, err)
			}
		default:
			w.wait(ctx)
		}
	}
}

// hold records a lock just taken and starts renewing it.
func (s *Storage) hold(ctx context.Context, name, enc string, rev uint64) error {
	renewCtx, cancel := context.WithCancel(context.Background())
	h := &heldLock{enc: enc, cancel: cancel, done: make(chan struct{}), rev: rev}
	s.mu.Lock()
	closed := s.closed
	old := s.held[name] // a lease this Storage lost and has not unlocked
	if !closed {
		s.held[name] = h
	}
	s.mu.Unlock()
	if old != nil {
		old.stop()
	}
	if closed {
		close(h.done)
		_ = s.release(ctx, name, h)
		return fmt.Errorf("kvstorage: lock %q: storage closed", name)
	}
	go s.renew(renewCtx, name, h)
	return nil
}

// renew updates the lock every lease/3, with the revision of its last
// write, until ctx ends or the lock turns out to be lost.
func (s *Storage) renew(ctx context.Context, name string, h *heldLock) {
	defer close(h.done)
	t := time.NewTicker(s.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		rev := h.rev
		h.mu.Unlock()
		rev, err := s.update(ctx, h.enc, rev)
		switch {
		case err == nil:
			h.mu.Lock()
			h.rev = rev
			h.mu.Unlock()
		case ctx.Err() != nil:
			return
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			// A renewal whose reply was lost moved the revision on: the
			// lock is still ours if the key still names this holder.
			if cur, ours := s.ownRevision(ctx, h.enc); ours {
				h.mu.Lock()
				h.rev = cur
				h.mu.Unlock()
				continue
			}
			s.log.Error("kvstorage: lock lost: it expired or another holder took it", "lock", name, "error", err)
			h.mu.Lock()
			h.lost = true
			h.mu.Unlock()
			return
		default:
			s.log.Warn("kvstorage: lock renewal failed; retrying", "lock", name, "lease", s.lease, "error", err)
		}
	}
}

// ownRevision reads the lock's key and reports its revision if it still
// names this Storage as the holder (a renewal applied by the server whose
// reply timed out leaves the holder one revision behind).
func (s *Storage) ownRevision(ctx context.Context, enc string) (uint64, bool) {
	ctx, cancel := context.WithTimeout(ctx, s.lease/3)
	defer cancel()
	e, err := s.locks.Get(ctx, enc)
	if err != nil || string(e.Value()) != s.holder {
		return 0, false
	}
	return e.Revision(), true
}

// update renews the lock's key once, giving up after lease/3 so that a
// slow server delays no more than one renewal.
func (s *Storage) update(ctx context.Context, enc string, rev uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.lease/3)
	defer cancel()
	return s.locks.Update(ctx, enc, []byte(s.holder), rev)
}

// stop ends the renewal and waits for it.
func (h *heldLock) stop() {
	h.cancel()
	<-h.done
}

// Unlock releases a lock taken by Lock on this Storage: it stops the
// renewal and deletes the lock's key if it is still this Storage's. It
// fails if this Storage does not hold the lock, or held it but lost it
// (its lease expired, for instance while NATS was unreachable).
func (s *Storage) Unlock(ctx context.Context, name string) error {
	s.mu.Lock()
	h := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("kvstorage: unlock %q: not locked by this Storage", name)
	}
	return s.release(ctx, name, h)
}

// release stops renewing h and deletes its key if still ours.
func (s *Storage) release(ctx context.Context, name string, h *heldLock) error {
	h.stop()
	h.mu.Lock()
	rev, lost := h.rev, h.lost
	h.mu.Unlock()
	if lost {
		return fmt.Errorf("kvstorage: unlock %q: lock lost while held: its lease expired", name)
	}
	err := s.locks.Delete(ctx, h.enc, jetstream.LastRevision(rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		cur, ours := s.ownRevision(ctx, h.enc)
		if !ours {
			return fmt.Errorf("kvstorage: unlock %q: lock lost while held: its lease expired", name)
		}
		err = s.locks.Delete(ctx, h.enc, jetstream.LastRevision(cur))
	}
	if err != nil {
		return fmt.Errorf("kvstorage: unlock %q: %w", name, err)
	}
	return nil
}

// lockWaiter wakes a Lock call when the lock it waits for may be free.
type lockWaiter struct {
	w       jetstream.KeyWatcher
	updates <-chan jetstream.KeyValueEntry // nil once the watcher closed it
	poll    *time.Ticker                   // catches expiries, which the watch does not see
}

// newLockWaiter watches the lock's key for changes from now on.
func (s *Storage) newLockWaiter(ctx context.Context, enc string) (*lockWaiter, error) {
	w, err := s.locks.Watch(ctx, enc, jetstream.UpdatesOnly(), jetstream.MetaOnly())
	if err != nil {
		return nil, err
	}
	return &lockWaiter{w: w, updates: w.Updates(), poll: time.NewTicker(max(s.lease/10, 50*time.Millisecond))}, nil
}

// wait returns on a change of the lock's key, a poll tick or the end of
// ctx, whichever comes first.
func (lw *lockWaiter) wait(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-lw.poll.C:
	case _, ok := <-lw.updates:
		if !ok {
			lw.updates = nil // watcher gone: poll only
		}
	}
}

// stop releases the watcher; a nil lockWaiter is fine.
func (lw *lockWaiter) stop() {
	if lw == nil {
		return
	}
	lw.poll.Stop()
	_ = lw.w.Stop()
}
