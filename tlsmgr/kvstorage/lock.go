package kvstorage

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// heldLock is a lock this Storage holds and the goroutine renewing it.
type heldLock struct {
	enc    string             // the lock's KV key
	b      *buckets           // where it lives
	cancel context.CancelFunc // stops the renewal
	done   chan struct{}      // closed when the renewal has stopped

	// mu guards rev, renewed and lost.
	mu      sync.Mutex
	rev     uint64    // revision of the last create or renewal
	renewed time.Time // when the last create or renewal was sent
	lost    bool      // a renewal found the lock taken or gone
}

// valid reports whether the lock is still this holder's as far as it
// knows: not found lost, and renewed less than one lease ago.
func (h *heldLock) valid(lease time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.lost && time.Since(h.renewed) < lease
}

// Lock blocks until it holds the lock called name or ctx ends. It creates
// the lock's key in the lock bucket, which only one Storage can do; a
// goroutine then renews it every lease/3 until Unlock or Close. While
// another holder has it, Lock watches the key for its release and polls
// every lease/10 (at least 50 ms) for its expiry. Every answer meaning that
// another Storage won the race (the key exists, or JetStream's "wrong last
// sequence", which a replicated bucket returns when two Storages create
// the key over a delete marker) counts as "held", never as a failure; any
// other error (JetStream unreachable, a timeout) is retried with backoff
// up to lease/2. So Lock fails only when ctx ends, the Storage is closed,
// or name is invalid; its error then also says what the last attempt
// met. Lock names follow the rules of keys but live apart from them.
func (s *Storage) Lock(ctx context.Context, name string) error {
	enc, err := checkedKey(name)
	if err != nil {
		return fmt.Errorf("kvstorage: lock: %w", err)
	}
	var w *lockWaiter
	defer func() { w.stop() }()
	var last error
	retry := newBackoff(s.LockLease())
	for {
		if s.isClosed() {
			return fmt.Errorf("kvstorage: lock %q: storage closed", name)
		}
		if err := ctx.Err(); err != nil {
			return lockGaveUp(name, err, last)
		}
		b, rev, err := s.tryLock(ctx, enc)
		switch {
		case err == nil:
			return s.hold(ctx, name, enc, b, rev)
		case ctx.Err() != nil:
			return lockGaveUp(name, ctx.Err(), last)
		case !contended(err): // JetStream unreachable, slow or restarting
			last = err
			s.log.Debug("kvstorage: lock attempt failed; retrying", "lock", name, "error", err)
			retry.wait(ctx)
		case w == nil: // held: watch for its release, then try again at once
			if w, err = s.newLockWaiter(ctx, b, enc); err != nil {
				last = err
				retry.wait(ctx)
			}
		default:
			retry.reset()
			w.wait(ctx)
		}
	}
}

// tryLock makes one attempt at creating the lock's key.
func (s *Storage) tryLock(ctx context.Context, enc string) (*buckets, uint64, error) {
	b, err := s.buckets(ctx)
	if err != nil {
		return nil, 0, err
	}
	rev, err := b.locks.Create(ctx, enc, []byte(s.holder))
	return b, rev, s.observe(b, err)
}

// lockGaveUp is Lock's error when ctx ended, naming the last failure.
func lockGaveUp(name string, ctxErr, last error) error {
	if last != nil {
		return fmt.Errorf("kvstorage: lock %q: %w (last attempt: %v)", name, ctxErr, last)
	}
	return fmt.Errorf("kvstorage: lock %q: %w", name, ctxErr)
}

// isClosed reports whether Close was called.
func (s *Storage) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// hold records a lock just taken and starts renewing it. Revisions of
// fenced keys seen before are forgotten: only reads under the lock fence
// the holder's writes.
func (s *Storage) hold(ctx context.Context, name, enc string, b *buckets, rev uint64) error {
	renewCtx, cancel := context.WithCancel(context.Background())
	h := &heldLock{enc: enc, b: b, cancel: cancel, done: make(chan struct{}), rev: rev, renewed: time.Now()}
	s.mu.Lock()
	closed := s.closed
	old := s.held[name] // a lease this Storage lost and has not unlocked
	if !closed {
		s.held[name] = h
		clear(s.seen)
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
	lease := h.b.lease
	t := time.NewTicker(lease / 3)
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
		sent := time.Now()
		rev, err := s.update(ctx, h, rev)
		switch {
		case err == nil:
			h.mu.Lock()
			h.rev, h.renewed = rev, sent
			h.mu.Unlock()
		case ctx.Err() != nil:
			return
		case contended(err):
			// A renewal whose reply was lost moved the revision on: the
			// lock is still ours if the key still names this holder.
			if cur, ours := s.ownRevision(ctx, h); ours {
				h.mu.Lock()
				h.rev, h.renewed = cur, sent
				h.mu.Unlock()
				continue
			}
			s.log.Error("kvstorage: lock lost: it expired or another holder took it", "lock", name, "error", err)
			h.mu.Lock()
			h.lost = true
			h.mu.Unlock()
			return
		default:
			s.log.Warn("kvstorage: lock renewal failed; retrying", "lock", name, "lease", lease, "error", err)
		}
	}
}

// ownRevision reads the lock's key and reports its revision if it still
// names this Storage as the holder (a renewal applied by the server whose
// reply timed out leaves the holder one revision behind).
func (s *Storage) ownRevision(ctx context.Context, h *heldLock) (uint64, bool) {
	ctx, cancel := context.WithTimeout(ctx, h.b.lease/3)
	defer cancel()
	e, err := h.b.locks.Get(ctx, h.enc)
	if err != nil || string(e.Value()) != s.holder {
		return 0, false
	}
	return e.Revision(), true
}

// update renews the lock's key once, giving up after lease/3 so that a
// slow server delays no more than one renewal.
func (s *Storage) update(ctx context.Context, h *heldLock, rev uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, h.b.lease/3)
	defer cancel()
	return h.b.locks.Update(ctx, h.enc, []byte(s.holder), rev)
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
	if nc := s.js.Conn(); nc != nil && !nc.IsConnected() {
		return fmt.Errorf("kvstorage: unlock %q: %w: the lock expires within its lease", name, ErrOffline)
	}
	err := h.b.locks.Delete(ctx, h.enc, jetstream.LastRevision(rev))
	if contended(err) {
		cur, ours := s.ownRevision(ctx, h)
		if !ours {
			return fmt.Errorf("kvstorage: unlock %q: lock lost while held: its lease expired", name)
		}
		err = h.b.locks.Delete(ctx, h.enc, jetstream.LastRevision(cur))
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
func (s *Storage) newLockWaiter(ctx context.Context, b *buckets, enc string) (*lockWaiter, error) {
	w, err := b.locks.Watch(ctx, enc, jetstream.UpdatesOnly(), jetstream.MetaOnly())
	if err != nil {
		return nil, err
	}
	return &lockWaiter{w: w, updates: w.Updates(), poll: time.NewTicker(max(b.lease/10, 50*time.Millisecond))}, nil
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

// backoff spaces out retries of a failing lock attempt: 50 ms, doubling
// up to lease/2.
type backoff struct {
	next, max time.Duration
}

func newBackoff(lease time.Duration) *backoff {
	return &backoff{next: 50 * time.Millisecond, max: max(lease/2, 50*time.Millisecond)}
}

// wait sleeps for the current delay, or until ctx ends, and doubles it.
func (b *backoff) wait(ctx context.Context) {
	t := time.NewTimer(b.next)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	b.next = min(2*b.next, b.max)
}

// reset restarts from the shortest delay.
func (b *backoff) reset() { b.next = 50 * time.Millisecond }
