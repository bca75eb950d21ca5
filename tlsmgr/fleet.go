package tlsmgr

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A fleet is many Managers sharing one Storage. This file keeps a Manager
// in step with the others: it serves at once a certificate another
// Manager stored (a [Watcher]'s notification, or the periodic check), it
// stops waiting for a lock once the certificate it waits for is served,
// and it writes back a certificate Storage lost or never received.

// fleetState is the Manager's side of the fleet. Its zero value is ready.
type fleetState struct {
	// mu guards waiters.
	mu      sync.Mutex
	waiters map[string][]chan struct{}

	// adoptMu serialises adoptions, so that two never cross.
	adoptMu sync.Mutex

	// noted holds the issuer keys recorded by noteIssuer.
	noted sync.Map

	// ca is the default private CA as stored, once Start has it; nil if
	// Config.PrivateCA is set.
	ca atomic.Pointer[storedCA]
}

// watchRetry is the wait before a broken watch is opened again.
const watchRetry = time.Second

// writeBackTimeout bounds the lock wait of a write-back: a holder busy
// with an order will store a fresher certificate anyway.
const writeBackTimeout = 2 * time.Second

// waitKey returns a channel closed the next time a Watcher reports key,
// and a function that stops waiting.
func (f *fleetState) waitKey(key string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.waiters == nil {
		f.waiters = make(map[string][]chan struct{})
	}
	f.waiters[key] = append(f.waiters[key], ch)
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		list := f.waiters[key]
		for i, c := range list {
			if c == ch {
				f.waiters[key] = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(f.waiters[key]) == 0 {
			delete(f.waiters, key)
		}
	}
}

// notify wakes every waiter of key.
func (f *fleetState) notify(key string) {
	f.mu.Lock()
	list := f.waiters[key]
	delete(f.waiters, key)
	f.mu.Unlock()
	for _, ch := range list {
		close(ch)
	}
}

// openWatch starts watching the certificates and the private CA if
// Storage is a Watcher, and returns the channel of changed keys, or nil.
// A failure is logged at level (a warning the first time; the retries,
// every watchRetry while the storage is down, at debug level).
func (m *Manager) openWatch(ctx context.Context, level slog.Level) <-chan string {
	w, ok := m.cfg.Storage.(Watcher)
	if !ok {
		return nil
	}
	keys, err := w.Watch(ctx, "")
	if err != nil {
		m.log.Log(ctx, level, "tlsmgr: watch storage; checking it periodically instead", "error", err)
		return nil
	}
	return keys
}

// watchStorage keeps the slots in step with Storage until ctx ends: it
// syncs a slot whenever the watch reports its key, and every slot every
// StorageCheckInterval and whenever a broken watch is reopened.
func (m *Manager) watchStorage(ctx context.Context, keys <-chan string) {
	defer m.wg.Done()
	_, watcher := m.cfg.Storage.(Watcher)
	check := time.NewTicker(m.cfg.StorageCheckInterval)
	defer check.Stop()
	reopen := time.NewTimer(watchRetry)
	defer reopen.Stop()
	if keys != nil || !watcher {
		reopen.Stop()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case key, ok := <-keys:
			if !ok {
				if ctx.Err() != nil {
					return
				}
				m.log.Warn("tlsmgr: storage watch ended; reopening it, and checking the storage periodically meanwhile")
				keys = nil
				reopen.Reset(watchRetry)
				continue
			}
			m.fleet.notify(key)
			m.syncKey(ctx, key)
		case <-reopen.C:
			if keys = m.openWatch(ctx, slog.LevelDebug); keys == nil {
				reopen.Reset(watchRetry)
				continue
			}
			m.syncAll(ctx) // changes made while the watch was down
		case <-check.C:
			m.syncAll(ctx)
		}
	}
}

// syncKey syncs the slots stored at key.
func (m *Manager) syncKey(ctx context.Context, key string) {
	if !strings.HasPrefix(key, certPrefix) {
		return
	}
	for _, s := range m.slots {
		if iss := m.issuer(s); iss != nil && storageKey(iss.IssuerKey(), s.id) == key {
			m.sync(ctx, s)
		}
	}
}

// syncAll syncs the private CA and every slot.
func (m *Manager) syncAll(ctx context.Context) {
	m.syncCA(ctx)
	for _, s := range m.slots {
		if ctx.Err() != nil {
			return
		}
		m.sync(ctx, s)
	}
}

// sync compares what the slot serves with what Storage holds: it adopts
// a newer stored certificate, with its renewal state, and writes back the
// served one if Storage holds an older one or none. A Storage that cannot
// be read changes nothing.
func (m *Manager) sync(ctx context.Context, s *slot) {
	iss := m.issuer(s)
	if iss == nil {
		return
	}
	v, sc, err := m.loadStored(ctx, storageKey(iss.IssuerKey(), s.id))
	cur := s.cur.Load()
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return
	case err == nil && cur != nil && sameCert(v, cur):
		m.adoptAdvice(s, sc.Renewal)
	case err == nil && supersedes(v, cur, iss):
		m.adopt(s, iss, v, sc.Renewal)
	case cur != nil && cur.issuerKey == iss.IssuerKey():
		m.writeBack(ctx, s, iss, cur)
	}
}

// adopt serves stored certificate v and its renewal state, if it passes
// the slot's checks and is still newer than what the slot serves.
func (m *Manager) adopt(s *slot, iss Issuer, v *certVersion, st renewState) {
	if err := m.checkOwn(s, iss, v); err != nil {
		m.log.Warn("tlsmgr: stored certificate not adopted", "roles", s.roleNames(), "error", err)
		return
	}
	m.fleet.adoptMu.Lock()
	defer m.fleet.adoptMu.Unlock()
	if cur := s.cur.Load(); cur != nil && sameCert(v, cur) || !supersedes(v, cur, iss) {
		return
	}
	m.install(s, v, st, false)
	s.wake()
}

// syncCA writes the default private CA back if Storage lost it (a bucket
// recreated empty), so that a Manager starting later joins this CA rather
// than generating another one.
func (m *Manager) syncCA(ctx context.Context) {
	sc := m.fleet.ca.Load()
	if sc == nil {
		return
	}
	if _, err := m.loadCA(ctx); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	const lock = "privateca"
	lctx, cancel := context.WithTimeout(ctx, writeBackTimeout)
	defer cancel()
	if err := m.cfg.Storage.Lock(lctx, lock); err != nil {
		return
	}
	defer func() { _ = m.cfg.Storage.Unlock(context.WithoutCancel(ctx), lock) }()
	if _, err := m.loadCA(ctx); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	data, err := json.MarshalIndent(sc, "", "  ")
	if err == nil {
		err = m.cfg.Storage.Store(ctx, caStorageKey, data)
	}
	if err != nil {
		m.log.Warn("tlsmgr: write the private CA back to storage", "error", err)
		return
	}
	m.log.Info("tlsmgr: wrote the private CA back to storage", "key", caStorageKey)
}

// adoptAdvice takes up the renewal state stored with the certificate the
// slot serves if another Manager asked the issuer for advice after this
// one did: one advice check serves the fleet until its next one is due.
func (m *Manager) adoptAdvice(s *slot, stored renewState) {
	mine, interim, _ := s.state()
	if interim || !stored.NextCheck.After(mine.NextCheck) {
		return
	}
	s.setState(stored)
	s.wake()
}

// adviceFresh is how much older than a Manager's own advice the advice
// another Manager stored may be and still spare it a write.
const adviceFresh = time.Minute

// adviceStored reports whether Storage already holds, with cur, renewal
// advice about as fresh as st: another Manager of the fleet asked the
// issuer moments ago, so storing st would take the lock for nothing (a
// fleet starting together would queue on it once per Manager).
func (m *Manager) adviceStored(ctx context.Context, s *slot, cur *certVersion, st renewState) bool {
	v, sc, err := m.loadStored(ctx, storageKey(cur.issuerKey, s.id))
	return err == nil && sameCert(v, cur) && hasWindow(sc.Renewal) &&
		!sc.Renewal.NextCheck.Before(st.NextCheck.Add(-adviceFresh))
}

// writeBack stores cur, which the slot serves, if Storage still holds an
// older certificate or none once the lock is taken: a certificate
// obtained or cached while Storage was unreachable, or a Storage restored
// from an older backup.
func (m *Manager) writeBack(ctx context.Context, s *slot, iss Issuer, cur *certVersion) {
	if m.checkOwn(s, iss, cur) != nil {
		return // expired or otherwise unfit: let the renewal loop replace it
	}
	lctx, cancel := context.WithTimeout(ctx, writeBackTimeout)
	defer cancel()
	unlock, err := m.lock(lctx, s)
	if err != nil {
		return
	}
	defer unlock()
	v, _, err := m.loadStored(ctx, storageKey(iss.IssuerKey(), s.id))
	switch {
	case err == nil && !cur.cert.Leaf.NotAfter.After(v.cert.Leaf.NotAfter):
		return // not older any more
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return
	}
	st, _, _ := s.state()
	m.store(ctx, s, cur, st)
	m.log.Info("tlsmgr: wrote the served certificate back to storage", "roles", s.roleNames(),
		"not_after", cur.cert.Leaf.NotAfter)
}

// supersedes reports whether stored v, from iss, should replace cur in a
// fleet: v is from iss and expires no earlier than cur, or cur is nil or
// from another issuer. Ties go to storage, which is the fleet's record:
// two certificates issued in the same second expire in the same second.
func supersedes(v, cur *certVersion, iss Issuer) bool {
	switch {
	case v.issuerKey != iss.IssuerKey():
		return false
	case cur == nil || cur.issuerKey != iss.IssuerKey():
		return true
	}
	return !v.cert.Leaf.NotAfter.Before(cur.cert.Leaf.NotAfter)
}

// sameCert reports whether a and b are the same certificate.
func sameCert(a, b *certVersion) bool {
	return a.cert.Leaf.SerialNumber.Cmp(b.cert.Leaf.SerialNumber) == 0 && a.issuerKey == b.issuerKey
}

// errAdopted cancels a lock wait made pointless by an adoption.
var errAdopted = errors.New("tlsmgr: another Manager's certificate was adopted")

// untilAdopted returns a context that ends with errAdopted as soon as
// adopted is closed, and the function that releases it.
func untilAdopted(ctx context.Context, adopted <-chan struct{}) (context.Context, func()) {
	lctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-adopted:
			cancel(errAdopted)
		case <-lctx.Done():
		}
	}()
	return lctx, func() { cancel(nil) }
}

// wasAdopted reports whether lctx, from untilAdopted(ctx, ...), ended
// because of an adoption rather than because ctx did.
func wasAdopted(ctx, lctx context.Context) bool {
	return ctx.Err() == nil && errors.Is(context.Cause(lctx), errAdopted)
}

// lockOrAdopted takes the slot's storage lock as lockForOrder does, but,
// unless force is set, stops waiting as soon as the slot serves a
// certificate other than cur: one another Manager stored meanwhile,
// pushed by the watch. It then returns adopted true and no error.
func (m *Manager) lockOrAdopted(ctx context.Context, s *slot, cur *certVersion, force bool) (unlock func(), locked, adopted bool, err error) {
	if force {
		unlock, locked, err = m.lockForOrder(ctx, s)
		return unlock, locked, false, err
	}
	changed := s.ready
	if cur != nil {
		changed = cur.replaced
	}
	lctx, stop := untilAdopted(ctx, changed)
	defer stop()
	unlock, locked, err = m.lockForOrder(lctx, s)
	if err != nil && wasAdopted(ctx, lctx) {
		return nil, false, true, nil
	}
	return unlock, locked, false, err
}
