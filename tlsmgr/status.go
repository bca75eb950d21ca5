package tlsmgr

import (
	"crypto/x509"
	"time"
)

// CertStatus is a snapshot of one certificate and its renewal schedule.
// Its JSON form uses snake_case keys and omits zero times.
type CertStatus struct {
	Roles  []Role   `json:"roles"`  // the roles sharing the certificate
	Names  []string `json:"names"`  // the names it is for
	Issuer string   `json:"issuer"` // the issuer's IssuerKey
	// IssuedBy is the IssuerKey of the issuer that issued the served
	// certificate when Issuer is a [Fallback] that can tell, else "".
	IssuedBy string  `json:"issued_by,omitempty"`
	KeyType  KeyType `json:"key_type"` // the key algorithm of new certificates
	// Served reports whether a certificate is served to handshakes; the
	// fields up to NotAfter are zero while it is not.
	Served bool `json:"served"`
	// Serial is the leaf's serial number in hex.
	Serial    string    `json:"serial,omitempty"`
	NotBefore time.Time `json:"not_before,omitzero"` // the leaf's validity start
	NotAfter  time.Time `json:"not_after,omitzero"`  // the leaf's expiry
	// NextRenewal is when the next attempt is planned, and RenewalReason
	// why (one of the Reason constants).
	NextRenewal   time.Time `json:"next_renewal,omitzero"`
	RenewalReason string    `json:"renewal_reason,omitempty"`
	// ARIWindowStart and ARIWindowEnd are the issuer's advised renewal
	// window, zero if none.
	ARIWindowStart time.Time `json:"ari_window_start,omitzero"`
	ARIWindowEnd   time.Time `json:"ari_window_end,omitzero"`
	// LastSuccess is when the served certificate was obtained, zero if not
	// known (a certificate found in storage without that record).
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`  // the last failure, "" after a success
	Failures    int       `json:"failures"`              // consecutive failures
	LastAttempt time.Time `json:"last_attempt,omitzero"` // the last failed attempt
	// RetryAfter is the issuer's Retry-After after the last failure, a
	// floor for NextRenewal; zero if it gave none.
	RetryAfter time.Time `json:"retry_after,omitzero"`
	// Interim is true while the certificate served is from another issuer
	// (a previous public CA), served only until the role's issuer's
	// arrives.
	Interim bool `json:"interim,omitempty"`
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
		cs.IssuedBy = issuedBy(m.issuer(s), s.cur.Load())
		out = append(out, cs)
	}
	return out
}

// CACertificate returns the private CA's signing certificate, or nil before
// Start resolved the default CA or if a custom Config.PrivateCA has no
// Certificate() *x509.Certificate method.
func (m *Manager) CACertificate() *x509.Certificate {
	if c, ok := m.privateCA().(interface{ Certificate() *x509.Certificate }); ok {
		return c.Certificate()
	}
	return nil
}

// issuedBy asks a Fallback which member issued v.
func issuedBy(iss Issuer, v *certVersion) string {
	f, ok := iss.(*Fallback)
	if !ok || v == nil {
		return ""
	}
	chain, err := v.parsedChain()
	if err != nil {
		return ""
	}
	return f.IssuedBy(chain)
}

// status describes the slot without schedule.
func (s *slot) status() CertStatus {
	st, interim, _ := s.state()
	cs := CertStatus{
		RetryAfter:     st.RetryAt,
		Interim:        interim,
		Roles:          s.roleList(),
		Names:          append([]string(nil), s.names...),
		KeyType:        s.keyType,
		ARIWindowStart: st.ARIStart,
		ARIWindowEnd:   st.ARIEnd,
		LastSuccess:    st.Issued,
		LastError:      st.LastError,
		Failures:       st.Failures,
		LastAttempt:    st.LastAttempt,
	}
	if v := s.cur.Load(); v != nil {
		cs.Served = true
		cs.Issuer = v.issuerKey
		cs.KeyType = v.keyType
		cs.Serial = v.cert.Leaf.SerialNumber.Text(16)
		cs.NotBefore = v.cert.Leaf.NotBefore
		cs.NotAfter = v.cert.Leaf.NotAfter
	}
	return cs
}
