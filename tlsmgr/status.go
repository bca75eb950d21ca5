package tlsmgr

import "time"

// CertStatus is a snapshot of one certificate and its renewal schedule.
type CertStatus struct {
	Roles   []Role   // the roles sharing the certificate
	Names   []string // the names it is for
	Issuer  string   // the issuer's IssuerKey
	KeyType KeyType
	// Serial is the leaf's serial number in hex; the fields up to NotAfter
	// are zero while the certificate is missing.
	Serial    string
	NotBefore time.Time
	NotAfter  time.Time
	// NextRenewal is when the next attempt is planned, and RenewalReason
	// why (one of the Reason constants).
	NextRenewal   time.Time
	RenewalReason string
	// ARIWindowStart and ARIWindowEnd are the issuer's advised renewal
	// window, zero if none.
	ARIWindowStart time.Time
	ARIWindowEnd   time.Time
	LastError      string    // the last failure, "" after a success
	Failures       int       // consecutive failures
	LastAttempt    time.Time // the last failed attempt
}

// Status returns a snapshot per certificate, in role order.
func (m *Manager) Status() []CertStatus {
	out := make([]CertStatus, 0, len(m.slots))
	for _, s := range m.slots {
		cs := s.status()
		if iss := m.issuer(s); iss != nil && cs.Issuer == "" {
			cs.Issuer = iss.IssuerKey()
		}
		cs.NextRenewal, cs.RenewalReason = s.plan(m.clock.Now())
		out = append(out, cs)
	}
	return out
}

// status describes the slot without schedule.
func (s *slot) status() CertStatus {
	st, _ := s.state()
	cs := CertStatus{
		Roles:          s.roleList(),
		Names:          append([]string(nil), s.names...),
		KeyType:        s.keyType,
		ARIWindowStart: st.ARIStart,
		ARIWindowEnd:   st.ARIEnd,
		LastError:      st.LastError,
		Failures:       st.Failures,
		LastAttempt:    st.LastAttempt,
	}
	if v := s.cur.Load(); v != nil {
		cs.Issuer = v.issuerKey
		cs.KeyType = v.keyType
		cs.Serial = v.cert.Leaf.SerialNumber.Text(16)
		cs.NotBefore = v.cert.Leaf.NotBefore
		cs.NotAfter = v.cert.Leaf.NotAfter
	}
	return cs
}
