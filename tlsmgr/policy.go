package tlsmgr

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
)

// ErrOwnCertificate is returned (wrapped) by [Manager.TLSConfigFor] for a
// policy that brings its own certificate source (Certificates,
// GetCertificate or GetClientCertificate): such a listener is not
// managed, and its config should be used as it is.
var ErrOwnCertificate = errors.New("the config has its own certificate source")

// TLSConfigFor returns a *tls.Config that serves the role's certificates
// under the TLS policy of policy, typically the config nats-server parsed
// from a listener's tls {} block: everything but the certificate source is
// kept.
//
// Kept as they are: ClientAuth and ClientCAs (verify, ca_file),
// MinVersion, MaxVersion, CipherSuites, CurvePreferences, NextProtos,
// session settings, VerifyPeerCertificate, and, for a leafnode remote,
// RootCAs (the roots that verify the hub). Replaced: the certificate source
// (GetCertificate, and GetClientCertificate for roles that dial). Filled in
// only where policy leaves them at zero: MinVersion (TLS 1.2), the
// verification of [RoleConfig.VerifyPeers] when policy asks for no client
// certificate, and the hub roots of a leafnode remote without RootCAs (see
// [RoleConfig.PeerRoots]). For cluster and gateway, peers are verified in
// both directions against the private CA's bundle and, next to it, the
// roots in policy's ClientCAs and RootCAs (a cluster's ca_file), so nodes
// on managed and on file certificates can run side by side; policy's
// VerifyConnection runs after that check.
//
// place names where the config will serve (a listener, such as "client" or
// "leafnode remote 0"). For the same role and place, a policy equal to the
// previous one gets the same pointer back, so nats-server's ReloadOptions
// sees no TLS change when a configuration file is parsed again; a policy
// with callbacks is equal only to itself. A nil policy returns
// [Manager.TLSConfig], and a config this Manager returned is returned as it
// is.
//
// It returns an error for a policy with its own certificate source
// ([ErrOwnCertificate]), with InsecureSkipVerify (managed TLS depends on
// verifying peers), or with GetConfigForClient on a cluster or gateway
// (the Manager needs it to verify dialing peers). policy is not modified
// and may be changed afterwards. Safe for concurrent use.
func (m *Manager) TLSConfigFor(role Role, place string, policy *tls.Config) (*tls.Config, error) {
	rs, err := m.role(role)
	if err != nil {
		return nil, err
	}
	if policy == nil {
		return m.roleConfig(rs), nil
	}
	if m.Serves(policy) {
		return policy, nil
	}
	if err := checkPolicy(role, policy); err != nil {
		return nil, &roleError{role: role, op: "policy for " + place, err: err}
	}
	rs.policyMu.Lock()
	defer rs.policyMu.Unlock()
	if e := rs.policies[place]; e != nil && e.matches(policy) {
		return e.out, nil
	}
	out := m.compose(rs, policy)
	if rs.policies == nil {
		rs.policies = make(map[string]*policyEntry)
	}
	rs.policies[place] = &policyEntry{orig: policy, policy: policy.Clone(), out: out}
	if rs.composed == nil {
		rs.composed = make(map[*tls.Config]struct{})
	}
	rs.composed[out] = struct{}{}
	return out, nil
}

// Serves reports whether c is a config this Manager returned from
// [Manager.TLSConfig] or [Manager.TLSConfigFor]. Safe for concurrent use.
func (m *Manager) Serves(c *tls.Config) bool {
	if c == nil {
		return false
	}
	for _, rs := range m.roles {
		if rs.config.Load() == c {
			return true
		}
		rs.policyMu.Lock()
		_, ok := rs.composed[c]
		rs.policyMu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

// HasOwnCertificate reports whether c brings its own certificate source,
// so that a listener serving it is not managed: Certificates,
// GetCertificate or GetClientCertificate set by someone other than this
// Manager.
func (m *Manager) HasOwnCertificate(c *tls.Config) bool {
	return c != nil && !m.Serves(c) && ownCertificate(c)
}

func ownCertificate(c *tls.Config) bool {
	return len(c.Certificates) > 0 || c.GetCertificate != nil || c.GetClientCertificate != nil
}

// checkPolicy refuses a policy the Manager cannot serve.
func checkPolicy(role Role, p *tls.Config) error {
	switch {
	case ownCertificate(p):
		return ErrOwnCertificate
	case p.InsecureSkipVerify:
		return errors.New("InsecureSkipVerify (insecure) turns off the verification of peers that managed TLS relies on")
	case role.Mutual() && p.GetConfigForClient != nil:
		return fmt.Errorf("GetConfigForClient is used by the Manager to verify dialing %s peers", role)
	}
	return nil
}

// compose builds the config for policy p (see TLSConfigFor).
func (m *Manager) compose(rs *roleState, p *tls.Config) *tls.Config {
	c := p.Clone()
	c.Certificates, c.NameToCertificate = nil, nil // so that GetCertificate always runs
	c.GetCertificate = rs.getCertificate
	if rs.role.Dials() {
		c.GetClientCertificate = rs.getClientCertificate
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	switch {
	case rs.role.Mutual():
		var extra []*x509.CertPool
		for _, pool := range []*x509.CertPool{p.ClientCAs, p.RootCAs} {
			if pool != nil && !slices.ContainsFunc(extra, pool.Equal) {
				extra = append(extra, pool)
			}
		}
		m.mutual(rs, c, p.VerifyConnection, extra...)
	case rs.role == RoleLeafnodeRemote:
		if p.RootCAs != nil {
			break // the caller's roots verify the hub, as nats-server's ca_file does
		}
		if roots, ok := m.fixedHubRoots(rs); ok {
			c.RootCAs, c.Time = roots, m.clock.Now
			break
		}
		c.InsecureSkipVerify = true
		c.VerifyConnection = chain(m.peerVerifier(rs, sideClient), p.VerifyConnection)
	case rs.verifyPeers && p.ClientAuth == tls.NoClientCert:
		c.ClientAuth = tls.RequireAnyClientCert
		c.VerifyConnection = chain(m.peerVerifier(rs, sideServer), p.VerifyConnection)
	}
	rs.answerChallenges(c)
	return c
}

// A policyEntry is the config composed for one place from one policy.
type policyEntry struct {
	orig   *tls.Config // the caller's pointer
	policy *tls.Config // a copy of it as it was
	out    *tls.Config // what TLSConfigFor returned
}

// matches reports whether p is the same policy as the entry's.
func (e *policyEntry) matches(p *tls.Config) bool {
	if p == e.orig && samePolicy(p, e.policy) {
		return true
	}
	return !hasCallbacks(p) && !hasCallbacks(e.policy) && samePolicy(p, e.policy)
}

// hasCallbacks reports whether c carries functions or interfaces, which
// cannot be compared.
func hasCallbacks(c *tls.Config) bool {
	return c.VerifyPeerCertificate != nil || c.VerifyConnection != nil || c.GetConfigForClient != nil ||
		c.Time != nil || c.Rand != nil || c.KeyLogWriter != nil || c.ClientSessionCache != nil ||
		c.WrapSession != nil || c.UnwrapSession != nil || c.EncryptedClientHelloRejectionVerify != nil ||
		len(c.EncryptedClientHelloKeys) > 0
}

// samePolicy compares the comparable policy fields of a and b.
func samePolicy(a, b *tls.Config) bool {
	return a.ClientAuth == b.ClientAuth && poolEqual(a.ClientCAs, b.ClientCAs) && poolEqual(a.RootCAs, b.RootCAs) &&
		a.MinVersion == b.MinVersion && a.MaxVersion == b.MaxVersion &&
		slices.Equal(a.CipherSuites, b.CipherSuites) && slices.Equal(a.CurvePreferences, b.CurvePreferences) &&
		slices.Equal(a.NextProtos, b.NextProtos) && a.ServerName == b.ServerName &&
		a.InsecureSkipVerify == b.InsecureSkipVerify && a.SessionTicketsDisabled == b.SessionTicketsDisabled &&
		a.Renegotiation == b.Renegotiation && a.DynamicRecordSizingDisabled == b.DynamicRecordSizingDisabled &&
		bytes.Equal(a.EncryptedClientHelloConfigList, b.EncryptedClientHelloConfigList)
}

func poolEqual(a, b *x509.CertPool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b)
}
