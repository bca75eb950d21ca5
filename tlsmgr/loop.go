package tlsmgr

import (
	"context"
	"time"
)

// run is the renewal loop of one slot: it sleeps until the certificate is
// due or the issuer should be asked for advice, then acts. It returns when
// ctx ends.
func (m *Manager) run(ctx context.Context, s *slot) {
	defer m.wg.Done()
	for {
		if d := m.wakeTime(s).Sub(m.clock.Now()); d > 0 {
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
		_ = m.maintain(ctx, s, false) // reported through events and logs
	}
}

// wakeTime is the earlier of the renewal time and the next advice check.
func (m *Manager) wakeTime(s *slot) time.Time {
	at, _ := s.plan(m.clock.Now())
	if _, ok := m.issuer(s).(RenewalAdvisor); ok && s.cur.Load() != nil {
		st, _ := s.state()
		if st.NextCheck.Before(at) {
			at = st.NextCheck
		}
	}
	return at
}

// maintain asks for renewal advice if it is time, then renews if the
// certificate is due or force is set.
func (m *Manager) maintain(ctx context.Context, s *slot, force bool) error {
	s.op.Lock()
	defer s.op.Unlock()
	if adv, ok := m.issuer(s).(RenewalAdvisor); ok && s.cur.Load() != nil && !force {
		if st, _ := s.state(); !m.clock.Now().Before(st.NextCheck) {
			m.refreshAdvice(ctx, s, adv)
		}
	}
	at, reason := s.plan(m.clock.Now())
	if force {
		reason = ReasonForced
	} else if at.After(m.clock.Now()) {
		return nil
	}
	return m.obtain(ctx, s, reason, force)
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
	if cur.issuerKey != m.issuer(s).IssuerKey() {
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
