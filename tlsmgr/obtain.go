package tlsmgr

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/nats-autotls/autotls/internal/certutil"
)

// unlockTimeout bounds releasing a storage lock after the work is done.
const unlockTimeout = 30 * time.Second

// obtain gets a new certificate for s under the storage lock and serves it.
// Unless forced, a good certificate another Manager stored meanwhile is
// adopted instead of ordering a new one. The caller holds s.op.
func (m *Manager) obtain(ctx context.Context, s *slot, reason string, force bool) error {
	iss := m.issuer(s)
	cur := s.cur.Load()
	ev := m.event(s, EventObtaining, nil, nil)
	ev.Reason = reason
	m.emit(ev)
	unlock, err := m.lock(ctx, s)
	if err != nil {
		return m.fail(ctx, s, err, false)
	}
	defer unlock()
	if !force && m.adoptStored(ctx, s, iss, cur) {
		return nil
	}
	v, err := m.issue(ctx, s, iss, cur)
	if err != nil {
		return m.fail(ctx, s, err, true)
	}
	st := renewState{Issued: m.clock.Now()}
	m.store(ctx, s, v, st)
	m.install(s, v, st, false)
	typ := EventRenewed
	if cur == nil {
		typ = EventObtained
	}
	m.emit(m.event(s, typ, v, nil))
	return nil
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
// installed, if it is at least as good as cur: it passes every check for
// the slot (names, key type, chain to the issuer's roots), comes from the
// configured issuer, is not yet due, and expires later than cur. A cur
// from another issuer (the configured one changed) is replaced by any such
// certificate whatever its expiry, as Start would. It never switches to an
// older certificate a stale writer left in storage.
func (m *Manager) adoptStored(ctx context.Context, s *slot, iss Issuer, cur *certVersion) bool {
	v, sc, err := m.loadStored(ctx, storageKey(iss.IssuerKey(), s.id))
	if err != nil || !newerThan(v, cur, iss) {
		return false
	}
	if m.check(s, v, m.rootsOf(iss)) != nil {
		return false
	}
	if at, _ := nextRenewal(m.clock.Now(), v.cert.Leaf, sc.Renewal, false); !at.After(m.clock.Now()) {
		return false
	}
	m.install(s, v, sc.Renewal, false)
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
	data, err := encodeStored(s.names, v, st)
	if err == nil {
		err = m.cfg.Storage.Store(ctx, key, data)
	}
	if err != nil {
		m.emit(m.event(s, EventFailed, v, fmt.Errorf("tlsmgr: store %s: %w", key, err)))
	}
}

// install serves v for every role of s and wakes whoever waits on the
// previous certificate.
func (m *Manager) install(s *slot, v *certVersion, st renewState, issuerChanged bool) {
	s.mu.Lock()
	s.st = st
	s.issuerChanged = issuerChanged
	s.mu.Unlock()
	for _, rs := range s.roles {
		rs.table.Store(newCertTable(v.cert))
	}
	if old := s.cur.Swap(v); old != nil {
		close(old.replaced)
	}
	s.readyOnce.Do(func() { close(s.ready) })
	m.emit(m.event(s, EventInstalled, v, nil))
}

// retryAter is implemented by errors that carry an issuer's Retry-After,
// such as the acme package's rate-limit error.
type retryAter interface{ RetryAt() time.Time }

// fail records a failed attempt for the backoff, reports it and returns
// err. If locked (the caller holds the storage lock) it also persists the
// failure next to the current certificate, unless storage holds another
// one by now.
func (m *Manager) fail(ctx context.Context, s *slot, err error, locked bool) error {
	now := m.clock.Now()
	s.mu.Lock()
	s.st.Failures++
	s.st.LastError = err.Error()
	s.st.LastAttempt = now
	s.st.RetryAt = time.Time{}
	var ra retryAter
	if errors.As(err, &ra) {
		s.st.RetryAt = ra.RetryAt()
	}
	st := s.st
	s.mu.Unlock()
	cur := s.cur.Load()
	if locked && cur != nil && cur.issuerKey == m.issuer(s).IssuerKey() {
		m.storeIfCurrent(ctx, s, cur, st)
	}
	m.emit(m.event(s, EventFailed, cur, err))
	return &roleError{role: s.roles[0].role, op: "obtain", err: err}
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
