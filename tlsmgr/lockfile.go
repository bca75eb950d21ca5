package tlsmgr

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-autotls/autotls/internal/atomicfile"
)

// lockRecord is the JSON content of a lock file.
type lockRecord struct {
	Holder  string    `json:"holder"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Process identifies the holder's process, so that a waiter on the
	// same host can tell that it died; empty where the platform cannot.
	Process processID `json:"process,omitzero"`
}

// heldLock is a lock this FileStorage holds and the goroutine renewing it.
type heldLock struct {
	path   string
	holder string
	stop   context.CancelFunc
	done   chan struct{}
}

// errLockLost reports that a lock file is no longer ours.
var errLockLost = errors.New("lease lost: the lock file is gone or belongs to another holder")

// Lock blocks until it holds the lock called name or ctx ends; see
// [FileStorage] for the lease protocol. Lock names follow the rules of
// keys. A FileStorage value cannot take a lock it already holds: the second
// Lock waits for the Unlock of the first.
//
// Every Lock must be paired with an Unlock: the lease of a lock is renewed,
// by a goroutine per held lock, until Unlock, so a lock never unlocked stays
// held, and its goroutine running, for the life of the process. (The
// Manager unlocks every lock it takes.)
func (s *FileStorage) Lock(ctx context.Context, name string) error {
	path, err := s.lockPath(name)
	if err != nil {
		return fmt.Errorf("tlsmgr: file storage: lock: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tlsmgr: file storage: lock %q: %w", name, err)
	}
	if err := s.mkdirs(filepath.Dir(path)); err != nil {
		return fmt.Errorf("tlsmgr: file storage: lock %q: %w", name, err)
	}
	holder := newHolderID()
	var logged time.Time // when the wait was last logged
	for {
		rec, ok, err := s.tryCreateLock(path, holder)
		if err != nil {
			return fmt.Errorf("tlsmgr: file storage: lock %q: %w", name, err)
		}
		if ok {
			s.startRenewer(name, path, rec)
			return nil
		}
		if s.removeIfStale(path) {
			continue
		}
		if time.Since(logged) >= s.waitLogInterval() {
			s.logWait(ctx, name, path, logged.IsZero())
			logged = time.Now()
		}
		if err := sleepCtx(ctx, s.pollInterval()); err != nil {
			return fmt.Errorf("tlsmgr: file storage: lock %q: %w", name, err)
		}
	}
}

// logWait logs who holds the lock a waiter waits for and until when.
func (s *FileStorage) logWait(ctx context.Context, name, path string, first bool) {
	msg := "still waiting for lock"
	if first {
		msg = "waiting for lock"
	}
	rec, _, err := readLock(path)
	if err != nil {
		s.log.InfoContext(ctx, msg, "name", name, "path", path, "holder", "unknown (lock file being written or unreadable)")
		return
	}
	s.log.InfoContext(ctx, msg, "name", name, "path", path, "holder", rec.Holder, "host", rec.Process.Host,
		"held_since", rec.Created, "until", rec.Expires)
}

// waitLogInterval is how often a waiter logs that it still waits: every
// lease, at least every 100 ms.
func (s *FileStorage) waitLogInterval() time.Duration {
	return max(s.lease, 100*time.Millisecond)
}

// Unlock releases the lock called name: it stops the lease renewal and
// removes the lock file if it is still ours. Unlocking a lock this
// FileStorage does not hold is an error, and so is finding that the lease
// was lost (the lock then belongs to someone else and is left alone).
func (s *FileStorage) Unlock(_ context.Context, name string) error {
	s.mu.Lock()
	h := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("tlsmgr: file storage: unlock %q: not locked by this FileStorage", name)
	}
	h.stop()
	<-h.done
	rec, _, err := readLock(h.path)
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && rec.Holder != h.holder):
		return fmt.Errorf("tlsmgr: file storage: unlock %q: %w", name, errLockLost)
	case err != nil:
		// Unreadable but present: a renewal of ours was cut short.
		s.log.Warn("unlock: lock file unreadable, removing it", "name", name, "error", err)
	}
	if err := os.Remove(h.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("tlsmgr: file storage: unlock %q: %w", name, err)
	}
	return nil
}

// lockPath returns the file of the lock called name.
func (s *FileStorage) lockPath(name string) (string, error) {
	if err := s.checkDir(); err != nil {
		return "", err
	}
	if err := CheckKey(name); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, "locks", filepath.FromSlash(name)+".lock"), nil
}

// tryCreateLock creates the lock file exclusively; ok is false if it
// exists. The file is not synced: exclusion comes from O_EXCL, and a lock
// need not survive a crash (one left empty or partial is stale a lease
// after it was written; see isStale), so a renewal costs one fsync'd write,
// the certificate's.
func (s *FileStorage) tryCreateLock(path, holder string) (rec lockRecord, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, err
	}
	now := time.Now()
	rec = lockRecord{Holder: holder, Created: now, Expires: now.Add(s.lease), Process: s.self}
	data, _ := json.Marshal(rec)
	err = errors.Join(f.Chmod(0o600), writeAll(f, data), f.Close())
	if err != nil {
		_ = os.Remove(path)
		return rec, false, err
	}
	return rec, true, nil
}

// writeAll writes data to f.
func writeAll(f *os.File, data []byte) error {
	_, err := f.Write(data)
	return err
}

// readLock reads a lock file and returns its record and modification
// time. A record that does not parse (a lock being created, or a damaged
// file) is an error, returned with the modification time so that callers
// can judge its age.
func readLock(path string) (rec lockRecord, modified time.Time, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return rec, modified, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return rec, fi.ModTime(), err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fi.ModTime(), fmt.Errorf("%s: %w", path, err)
	}
	return rec, fi.ModTime(), nil
}

// isStale reports whether the lock file at path was left by a dead holder
// and why: its expiry is more than the grace past; its expiry is further
// ahead than a lease and the grace, which no live holder writes (its clock
// was fast, or ours stepped back); its holder was a process on this host
// that has exited; or, if it cannot be read, it was last written more than
// a lease and the grace ago.
func (s *FileStorage) isStale(path string) (stale bool, why string, missing bool) {
	rec, modified, err := readLock(path)
	now := time.Now()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, "", true
	case err != nil:
		return !modified.IsZero() && now.After(modified.Add(s.lease+s.grace())), "unreadable and not written for a lease", false
	case now.After(rec.Expires.Add(s.grace())):
		return true, "expired", false
	case rec.Expires.After(now.Add(s.lease + s.grace())):
		return true, "expiry further ahead than the lease allows (the holder's clock is fast, or ours stepped back)", false
	case s.self.outlived(rec.Process):
		return true, "its holder's process has exited", false
	}
	return false, "", false
}

// removeIfStale removes the lock file at path if it is stale and reports
// whether the caller should try to create it again at once. Removals are
// serialised by an exclusive takeover file, so that a waiter cannot remove
// a lock that another waiter has just taken over.
func (s *FileStorage) removeIfStale(path string) bool {
	if stale, _, missing := s.isStale(path); missing || !stale {
		return missing
	}
	guard := path + ".takeover"
	g, err := os.OpenFile(guard, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		s.removeStaleGuard(guard)
		return false
	}
	_ = g.Close()
	defer os.Remove(guard)
	stale, why, missing := s.isStale(path)
	if missing {
		return true
	}
	if !stale {
		return false
	}
	rec, _, _ := readLock(path)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("remove stale lock", "path", path, "error", err)
		return false
	}
	s.log.Info("took over stale lock", "path", path, "reason", why, "holder", rec.Holder, "until", rec.Expires)
	return true
}

// removeStaleGuard removes a takeover file left by a waiter that died
// during a takeover, which lasts milliseconds: one older than a lease.
func (s *FileStorage) removeStaleGuard(guard string) {
	fi, err := os.Stat(guard)
	if err == nil && time.Since(fi.ModTime()) > s.lease {
		s.log.Warn("removing stale lock takeover file", "path", guard)
		_ = os.Remove(guard)
	}
}

// startRenewer records a lock taken and starts renewing its lease.
func (s *FileStorage) startRenewer(name, path string, rec lockRecord) {
	ctx, stop := context.WithCancel(context.Background())
	h := &heldLock{path: path, holder: rec.Holder, stop: stop, done: make(chan struct{})}
	s.mu.Lock()
	s.held[name] = h
	s.mu.Unlock()
	go s.renew(ctx, h, rec)
}

// renew rewrites the lock's expiry every lease/3 until ctx ends or the
// lease is lost.
func (s *FileStorage) renew(ctx context.Context, h *heldLock, rec lockRecord) {
	defer close(h.done)
	t := time.NewTicker(s.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.renewOnce(h.path, rec)
		if errors.Is(err, errLockLost) {
			s.log.Error("lock lease lost", "path", h.path)
			return
		}
		if err != nil {
			s.log.Warn("renew lock lease", "path", h.path, "error", err)
		}
	}
}

// renewOnce extends the expiry of the lock file at path if it is still
// ours.
func (s *FileStorage) renewOnce(path string, rec lockRecord) error {
	cur, _, err := readLock(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && cur.Holder != rec.Holder) {
		return errLockLost
	}
	rec.Expires = time.Now().Add(s.lease)
	data, _ := json.Marshal(rec)
	return atomicfile.WriteFile(path, data, 0o600)
}

// pollInterval is how often a waiter looks at a held lock: lease/10, at
// least 50 ms.
func (s *FileStorage) pollInterval() time.Duration {
	return max(s.lease/10, 50*time.Millisecond)
}

// grace is how long past its expiry a lock is still respected, allowing
// for a late renewal.
func (s *FileStorage) grace() time.Duration { return s.lease / 10 }

// newHolderID returns a lock holder id: the process id and a random part,
// distinct for every Lock call.
func newHolderID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
