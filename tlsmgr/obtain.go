package tlsmgr

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// unlockTimeout bounds releasing a storage lock after the work is done.
const unlockTimeout = 30 * time.Second

// obtain renews s: under the storage lock it adopts a newer certificate,
// or a fresher failure, that another Manager stored since, and otherwise
// orders a new certificate, stores it and serves it. Forced, it orders
// whatever storage holds. The caller holds s.op.
func (m *Manager) obtain(ctx context.Context, s *slot, reason string, force bool) error {
	iss := m.issuer(s)
	cur := s.cur.Load()
	ev := m.event(s, EventObtaining, nil, nil)
	ev.Reason = reason
	m.emit(ev)
	unlock, locked, adopted, err := m.lockOrAdopted(ctx, s, cur, force)
	switch {
	case err != nil:
		return m.fail(ctx, s, err, false)
	case adopted: // another Manager's certificate, pushed while we waited
		return nil
	}
	defer unlock()
	if !force && (m.adoptStored(ctx, s, iss, cur) || m.adoptFailure(ctx, s, iss, cur)) {
		return nil
	}
	v, err := m.issue(ctx, s, iss, cur)
	if err != nil {
		return m.fail(ctx, s, err, locked)
	}
	prev, _, _ := s.state()
	st := renewState{Issued: m.clock.Now()}
	m.store(ctx, s, v, st)
	m.install(s, v, st, false)
	if prev.Failures > 0 {
		m.clearFailure(ctx, s, iss)
	}
	typ := EventRenewed
	if cur == nil {
		typ = EventObtained
	}
	m.emit(m.event(s, typ, v, nil))
	return nil
}

// lockForOrder takes the slot's storage lock. A storage that cannot take
// it (read-only, full or unreachable) must not stop renewals, or a server
// would let a good certificate expire: the order then goes ahead unlocked,
// with a warning. Only the end of ctx is an error.
func (m *Manager) lockForOrder(ctx context.Context, s *slot) (unlock func(), locked bool, err error) {
	unlock, err = m.lock(ctx, s)
	switch {
	case err == nil:
		return unlock, true, nil
	case ctx.Err() != nil:
		return nil, false, err
	}
	m.log.Warn("tlsmgr: storage lock unavailable: ordering without it", "roles", s.roleNames(), "error", err)
	return func() {}, false, nil
}

// lock takes the slot's storage lock and returns its release.
func (m *Manager) lock(ctx context.Context, s *slot) (func(), error) {
	name := "cert-" + s.id
	if err := m.cfg.Storage.Lock(ctx, name); err != nil {
		return nil, fmt.Errorf("tlsmgr: lock %s: %w", name, err)
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
		defer cancel()
		if err := m.cfg.Storage.Unlock(uctx, name); err != nil {
			m.log.Warn("tlsmgr: unlock", "lock", name, "error", err)
		}
	}, nil
}

// adoptStored serves the certificate another Manager stored since cur was
// installed, if it is at least as good as cur: it is the slot's own (see
// checkOwn), is not yet due, and expires later than cur. A cur from
// another issuer (interim) is replaced by any such certificate whatever
// its expiry, as Start would. It never switches to an older certificate a
// stale writer left in storage.
func (m *Manager) adoptStored(ctx context.Context, s *slot, iss Issuer, cur *certVersion) bool {
	v, sc, err := m.loadStored(ctx, storageKey(iss.IssuerKey(), s.id))
	if err != nil || !newerThan(v, cur, iss) || m.checkOwn(s, iss, v) != nil {
		return false
	}
	if at, _ := nextRenewal(m.clock.Now(), v.cert.Leaf, sc.Renewal, false); !at.After(m.clock.Now()) {
		return false
	}
	m.install(s, v, sc.Renewal, false)
	return true
}

// adoptFailure takes up the renewal state another Manager stored for the
// slot's current certificate (or for the slot without one) if it records
// a failure after the slot's last attempt whose next attempt is still
// ahead: Managers sharing storage back off together, and one Retry-After
// holds them all.
func (m *Manager) adoptFailure(ctx context.Context, s *slot, iss Issuer, cur *certVersion) bool {
	mine, interim, _ := s.state()
	var stored renewState
	if cur != nil && !interim {
		v, sc, err := m.loadStored(ctx, storageKey(iss.IssuerKey(), s.id))
		if err != nil || v.cert.Leaf.SerialNumber.Cmp(cur.cert.Leaf.SerialNumber) != 0 {
			return false
		}
		stored = sc.Renewal
	} else {
		stored = m.loadFailure(ctx, s, iss)
	}
	if stored.Failures == 0 || !stored.LastAttempt.After(mine.LastAttempt) || !stored.NextAttempt.After(m.clock.Now()) {
		return false
	}
	s.setState(stored)
	m.log.Info("tlsmgr: another Manager sharing the storage failed to renew: waiting as it does",
		"roles", s.roleNames(), "next_attempt", stored.NextAttempt, "last_error", stored.LastError)
	return true
}

// newerThan reports whether stored v, from iss, may replace cur: v is from
// iss and expires after cur, or cur is nil or from another issuer.
func newerThan(v, cur *certVersion, iss Issuer) bool {
	switch {
	case v.issuerKey != iss.IssuerKey():
		return false
	case cur == nil || cur.issuerKey != iss.IssuerKey():
		return true
	}
	return v.cert.Leaf.NotAfter.After(cur.cert.Leaf.NotAfter)
}

// issue asks iss for a certificate with a new key and validates it.
func (m *Manager) issue(ctx context.Context, s *slot, iss Issuer, cur *certVersion) (*certVersion, error) {
	key, err := certutil.GenerateKey(certutil.KeyType(s.keyType))
	if err != nil {
		return nil, fmt.Errorf("tlsmgr: generate key: %w", err)
	}
	var replaces *x509.Certificate
	if cur != nil && cur.issuerKey == iss.IssuerKey() {
		replaces = cur.cert.Leaf
	}
	chain, err := iss.Issue(ctx, key, s.names, replaces)
	if err != nil {
		return nil, fmt.Errorf("tlsmgr: issue from %s: %w", iss.IssuerKey(), err)
	}
	v, err := newVersion(chain, key, iss.IssuerKey())
	if err == nil {
		err = m.check(s, v, m.rootsOf(iss))
	}
	if err != nil {
		m.emit(m.event(s, EventRejected, nil, err))
		return nil, err
	}
	return v, nil
}

// store writes v with its renewal state; a failure is reported, not fatal:
// the certificate is still served.
func (m *Manager) store(ctx context.Context, s *slot, v *certVersion, st renewState) {
	key := storageKey(v.issuerKey, s.id)
	data, err := encodeStored(s.names, v, st, m.isPublic(s))
	if err == nil {
		err = m.cfg.Storage.Store(ctx, key, data)
	}
	if err != nil {
		m.emit(m.event(s, EventFailed, v, fmt.Errorf("tlsmgr: store %s: %w", key, err)))
		return
	}
	m.noteIssuer(ctx, v.issuerKey)
}

// install serves v for every role of s and wakes whoever waits on the
// previous certificate.
func (m *Manager) install(s *slot, v *certVersion, st renewState, interim bool) {
	s.mu.Lock()
	s.st = st
	s.interim = interim
	s.reported = expiryFine
	s.mu.Unlock()
	// The swap: one pointer, read by every role's handshakes; the table
	// it points to was built with v.
	old := s.cur.Swap(v)
	at := m.clock.Now()
	// Everything below is off the swap path: handshakes already get v.
	if old != nil {
		close(old.replaced)
	}
	s.readyOnce.Do(func() { close(s.ready) })
	m.cacheCert(s, v, st)
	ev := m.event(s, EventInstalled, v, nil)
	ev.Time = at
	m.emit(ev)
}

// retryAter is implemented by errors that carry an issuer's Retry-After,
// such as the acme package's rate-limit error.
type retryAter interface{ RetryAt() time.Time }

// fail records a failed attempt and chooses the next one (see
// nextAttempt), persists that so that a restart honours it, reports it and
// returns err. locked says the caller holds the storage lock.
func (m *Manager) fail(ctx context.Context, s *slot, err error, locked bool) error {
	now := m.clock.Now()
	cur := s.cur.Load()
	var leaf *x509.Certificate
	if cur != nil {
		leaf = cur.cert.Leaf
	}
	var retryAt time.Time
	var ra retryAter
	if errors.As(err, &ra) {
		retryAt = ra.RetryAt()
	}
	s.mu.Lock()
	s.st.Failures++
	s.st.LastError = err.Error()
	s.st.LastAttempt = now
	s.st.RetryAt = clampRetryAt(now, retryAt)
	s.st.NextAttempt = nextAttempt(now, leaf, s.st.Failures, retryAt, 2*rand.Float64()-1)
	st, interim := s.st, s.interim
	s.mu.Unlock()
	m.persistFailure(ctx, s, cur, st, interim, locked)
	m.emit(m.event(s, EventFailed, cur, err))
	m.reportExpiry(s, true)
	return &roleError{role: s.roles[0].role, op: "obtain", err: err}
}

// persistFailure stores st where a restart finds it: with the slot's own
// certificate (only under the lock, and unless storage holds another one
// by now), or, while the slot has none from its issuer, alone. A failure
// to store is logged: serving never depends on writing.
func (m *Manager) persistFailure(ctx context.Context, s *slot, cur *certVersion, st renewState, interim, locked bool) {
	if ctx.Err() != nil {
		return // Close interrupted the attempt
	}
	iss := m.issuer(s)
	if cur != nil && !interim && cur.issuerKey == iss.IssuerKey() {
		if locked {
			m.storeIfCurrent(ctx, s, cur, st)
		}
		return
	}
	data, err := json.MarshalIndent(storedFailure{Format: storedFormat, Renewal: st}, "", "  ")
	if err == nil {
		err = m.cfg.Storage.Store(ctx, failureKey(iss.IssuerKey(), s.id), data)
	}
	if err != nil {
		m.log.Warn("tlsmgr: persist renewal failure", "roles", s.roleNames(), "error", err)
	}
}

// loadFailure returns the failure state stored for slot s without a
// certificate from iss; zero if there is none or it cannot be read.
func (m *Manager) loadFailure(ctx context.Context, s *slot, iss Issuer) renewState {
	data, err := m.cfg.Storage.Load(ctx, failureKey(iss.IssuerKey(), s.id))
	if err != nil {
		return renewState{}
	}
	var sf storedFailure
	if json.Unmarshal(data, &sf) != nil || sf.Format != storedFormat {
		return renewState{}
	}
	return sf.Renewal
}

// clearFailure removes the failure state stored for s, after a success.
func (m *Manager) clearFailure(ctx context.Context, s *slot, iss Issuer) {
	if err := m.cfg.Storage.Delete(ctx, failureKey(iss.IssuerKey(), s.id)); err != nil {
		m.log.Warn("tlsmgr: remove renewal failure state", "roles", s.roleNames(), "error", err)
	}
}

// event describes s (and v, if not nil) for an Event.
func (m *Manager) event(s *slot, typ EventType, v *certVersion, err error) Event {
	ev := Event{Type: typ, Roles: s.roleList(), Names: append([]string(nil), s.names...), Err: err}
	if iss := m.issuer(s); iss != nil {
		ev.Issuer = iss.IssuerKey()
	}
	if v != nil {
		ev.Issuer = v.issuerKey
		ev.NotAfter = v.cert.Leaf.NotAfter
	}
	return ev
}
