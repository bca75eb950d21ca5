package tlsmgr

import (
	"context"
	"crypto/x509"
	"time"
)

// The renewal path of one certificate slot, top to bottom:
//
//  1. Start loads what storage holds (load.go): the slot serves a stored
//     certificate only if it comes from the slot's issuer, chains to that
//     issuer's roots, or is a previous public certificate the
//     configuration allows while the new one is ordered; it restores the
//     renewal state stored with it, or stored alone after failures.
//  2. run loops: next decides what the slot does next and when, the loop
//     sleeps until then, and act does it.
//  3. Renewing (obtain.go) takes the storage lock, adopts a newer
//     certificate or a fresher failure another Manager stored, or orders,
//     stores and serves a new certificate; a failure is recorded with the
//     time of the next attempt, and persisted.
//
// Every decision is in next and the pure functions of renew.go it calls;
// the steps it chooses are small and bounded.

// An action is what a slot does when its next step is due.
type action int

const (
	// actRenew renews: adopt a newer stored certificate, or order one.
	actRenew action = iota
	// actAdvise asks the issuer for renewal advice (ARI).
	actAdvise
	// actReport reports that the served certificate entered its last
	// twentieth of validity or expired.
	actReport
)

// A step is what a slot does next, and when.
type step struct {
	do     action
	at     time.Time
	reason string // for actRenew: one of the Reason constants
}

// Expiry levels of a served certificate, reported once each.
const (
	expiryFine    = iota
	expirySoon    // within the last twentieth of its validity
	expiryExpired // past NotAfter
)

// next decides what slot s does next, from its state and the clock:
//
//   - renew when it has no certificate, serves an interim one from another
//     issuer, or its own is due (the time chosen in the issuer's window,
//     a share of its lifetime, or its last twentieth); after failures, not
//     before the next attempt chosen when the last one failed;
//   - before that, ask the issuer's advice, if it gives some and it is time;
//   - before either, report that the served certificate enters its last
//     twentieth or expires, once each.
func (m *Manager) next(s *slot) step {
	now := m.clock.Now()
	st, interim, reported := s.state()
	var leaf *x509.Certificate
	if v := s.cur.Load(); v != nil {
		leaf = v.cert.Leaf
	}
	at, reason := nextRenewal(now, leaf, st, interim)
	next := step{do: actRenew, at: at, reason: reason}
	if _, ok := m.issuer(s).(RenewalAdvisor); ok && leaf != nil && !interim && st.NextCheck.Before(next.at) {
		next = step{do: actAdvise, at: st.NextCheck}
	}
	if leaf != nil {
		if t, ok := nextExpiryReport(leaf, reported); ok && t.Before(next.at) {
			next = step{do: actReport, at: t}
		}
	}
	return next
}

// nextExpiryReport is when leaf reaches the next expiry level after
// reported, if any is left.
func nextExpiryReport(leaf *x509.Certificate, reported int) (time.Time, bool) {
	switch reported {
	case expiryFine:
		return lastTwentieth(leaf), true
	case expirySoon:
		return leaf.NotAfter, true
	}
	return time.Time{}, false
}

// expiryLevel is leaf's expiry level at now.
func expiryLevel(now time.Time, leaf *x509.Certificate) int {
	switch {
	case !now.Before(leaf.NotAfter):
		return expiryExpired
	case !now.Before(lastTwentieth(leaf)):
		return expirySoon
	}
	return expiryFine
}

// run is the renewal loop of one slot: it sleeps until the next step is
// due, or a kick asks it to decide again, then acts. It returns when ctx
// ends.
func (m *Manager) run(ctx context.Context, s *slot) {
	defer m.wg.Done()
	for {
		if d := m.next(s).at.Sub(m.clock.Now()); d > 0 {
			t := m.clock.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-s.kick:
				t.Stop()
				continue
			case <-t.C():
			}
		}
		if ctx.Err() != nil {
			return
		}
		m.act(ctx, s)
	}
}

// act does the slot's next step if it is due. It decides again under
// s.op, since a Renew may have acted meanwhile.
func (m *Manager) act(ctx context.Context, s *slot) {
	s.op.Lock()
	defer s.op.Unlock()
	st := m.next(s)
	if st.at.After(m.clock.Now()) {
		return
	}
	switch st.do {
	case actAdvise:
		m.refreshAdvice(ctx, s, m.issuer(s).(RenewalAdvisor))
	case actReport:
		m.reportExpiry(s, false)
	case actRenew:
		_ = m.obtain(ctx, s, st.reason, false) // reported through events and logs
	}
}

// renewNow renews s at once, for Renew.
func (m *Manager) renewNow(ctx context.Context, s *slot) error {
	s.op.Lock()
	defer s.op.Unlock()
	return m.obtain(ctx, s, ReasonForced, true)
}

// reportExpiry logs a warning when the served certificate enters its last
// twentieth of validity and an error when it has expired: once per level,
// or, with again, even if that level was reported.
func (m *Manager) reportExpiry(s *slot, again bool) {
	v := s.cur.Load()
	if v == nil {
		return
	}
	level := expiryLevel(m.clock.Now(), v.cert.Leaf)
	s.mu.Lock()
	prev := s.reported
	s.reported = max(prev, level)
	st := s.st
	s.mu.Unlock()
	if level == expiryFine || (level <= prev && !again) {
		return
	}
	attrs := []any{"roles", s.roleNames(), "names", s.names, "issuer", v.issuerKey,
		"not_after", v.cert.Leaf.NotAfter, "failures", st.Failures}
	if st.LastError != "" {
		attrs = append(attrs, "last_error", st.LastError)
	}
	if level == expiryExpired {
		m.log.Error("tlsmgr: serving an expired certificate: renewal keeps failing", attrs...)
		return
	}
	m.log.Warn("tlsmgr: certificate in its last twentieth of validity and not renewed yet", attrs...)
}

// refreshAdvice asks the issuer for the current certificate's renewal
// window and persists the outcome.
func (m *Manager) refreshAdvice(ctx context.Context, s *slot, adv RenewalAdvisor) {
	cur := s.cur.Load()
	start, end, retry, err := adv.RenewalWindow(ctx, cur.cert.Leaf)
	now := m.clock.Now()
	s.mu.Lock()
	if err != nil {
		s.st.NextCheck = nextCheckTime(now, m.cfg.RenewCheckInterval, 0)
	} else {
		applyWindow(&s.st, start, end)
		s.st.NextCheck = nextCheckTime(now, m.cfg.RenewCheckInterval, retry)
	}
	st := s.st
	s.mu.Unlock()
	if err != nil {
		m.log.Warn("tlsmgr: renewal advice", "roles", s.roleNames(), "error", err)
		return
	}
	m.persist(ctx, s, cur, st)
}

// persist stores the renewal state with cur, unless another Manager has
// stored a different certificate meanwhile.
func (m *Manager) persist(ctx context.Context, s *slot, cur *certVersion, st renewState) {
	if cur.issuerKey != m.issuer(s).IssuerKey() || m.adviceStored(ctx, s, cur, st) {
		return
	}
	unlock, err := m.lock(ctx, s)
	if err != nil {
		m.log.Warn("tlsmgr: persist renewal state", "error", err)
		return
	}
	defer unlock()
	m.storeIfCurrent(ctx, s, cur, st)
}

// storeIfCurrent stores the renewal state with cur unless storage holds a
// different certificate (another Manager's newer one), which it must not
// overwrite. The caller holds the slot's storage lock.
func (m *Manager) storeIfCurrent(ctx context.Context, s *slot, cur *certVersion, st renewState) {
	if v, _, err := m.loadStored(ctx, storageKey(cur.issuerKey, s.id)); err == nil &&
		v.cert.Leaf.SerialNumber.Cmp(cur.cert.Leaf.SerialNumber) != 0 {
		return
	}
	m.store(ctx, s, cur, st)
}
