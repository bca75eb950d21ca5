package tlsmgr

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"sync"
	"sync/atomic"
)

// roleState is one role: its names, its certificate slot and its fixed
// *tls.Config. Its handshakes read the slot's current certificate version
// without locking.
type roleState struct {
	role        Role
	names       []string
	verifyPeers bool
	peerRoots   *x509.CertPool
	slot        *slot
	// challenge answers tls-alpn-01 validations; nil for most roles.
	challenge []ChallengeCertifier
	// config is built on first use (see Manager.roleConfig), so that a
	// role no listener uses costs no *tls.Config, and never modified
	// after; nil until then.
	configOnce sync.Once
	config     atomic.Pointer[tls.Config]

	// policyMu guards policies.
	policyMu sync.Mutex
	// policies holds, per place (see [Manager.TLSConfigFor]), the config
	// last composed from a caller's policy, so that an equal policy gets the
	// same pointer back.
	policies map[string]*policyEntry
	// composed holds every config TLSConfigFor returned, for Serves: a few
	// per changed policy, kept for the Manager's life.
	composed map[*tls.Config]struct{}
}

// certTable maps server names to certificates for one certificate
// version. It is immutable once published.
type certTable struct {
	exact nameIndex
	// wildcard indexes the part after "*." of a wildcard SAN.
	wildcard nameIndex
	// def answers an empty or unknown server name.
	def *tls.Certificate
}

// newCertTable indexes certs by their DNS SANs; the first is the default
// and, for a name two certificates share, the last wins.
func newCertTable(certs ...*tls.Certificate) *certTable {
	t := &certTable{}
	for _, c := range certs {
		if t.def == nil {
			t.def = c
		}
		for _, san := range c.Leaf.DNSNames {
			san = strings.ToLower(san)
			if rest, ok := strings.CutPrefix(san, "*."); ok {
				t.wildcard.set(rest, c)
			} else {
				t.exact.set(san, c)
			}
		}
	}
	return t
}

// smallIndex is how many names a nameIndex keeps in a list before it
// switches to a map.
const smallIndex = 8

// nameIndex finds a certificate by name: a short list scanned in order,
// which takes far less memory than a map for the one to few names of a
// certificate, or a map past smallIndex names.
type nameIndex struct {
	list []nameEntry
	m    map[string]*tls.Certificate
}

type nameEntry struct {
	name string
	cert *tls.Certificate
}

// set maps name to c, replacing an earlier mapping.
func (x *nameIndex) set(name string, c *tls.Certificate) {
	if x.m != nil {
		x.m[name] = c
		return
	}
	for i := range x.list {
		if x.list[i].name == name {
			x.list[i].cert = c
			return
		}
	}
	if len(x.list) < smallIndex {
		x.list = append(x.list, nameEntry{name, c})
		return
	}
	x.m = make(map[string]*tls.Certificate, 2*smallIndex)
	for _, e := range x.list {
		x.m[e.name] = e.cert
	}
	x.list = nil
	x.m[name] = c
}

// get returns the certificate for name. It allocates nothing.
func (x *nameIndex) get(name string) (*tls.Certificate, bool) {
	if x.m != nil {
		c, ok := x.m[name]
		return c, ok
	}
	for _, e := range x.list {
		if e.name == name {
			return e.cert, true
		}
	}
	return nil, false
}

// lookup finds the certificate for name: exact match, then wildcard, then
// the default. It allocates nothing for lower-case names.
func (t *certTable) lookup(name string) *tls.Certificate {
	if name == "" {
		return t.def
	}
	if c, ok := t.exact.get(name); ok {
		return c
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		if c, ok := t.wildcard.get(name[i+1:]); ok {
			return c
		}
	}
	if hasUpper(name) {
		return t.lookup(strings.ToLower(name))
	}
	return t.def
}

// hasUpper reports whether s has an ASCII upper-case letter.
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// servedCert returns what a handshake sends for cert: its chain without a
// trailing self-signed root, which a peer must already trust and never
// uses from the wire (RFC 8446, section 4.4.2). The private CA's chain is
// then the leaf alone. It shares cert's key and DER.
func servedCert(cert *tls.Certificate) *tls.Certificate {
	n := len(cert.Certificate)
	if n < 2 {
		return cert
	}
	root, err := x509.ParseCertificate(cert.Certificate[n-1])
	if err != nil || !bytes.Equal(root.RawIssuer, root.RawSubject) || root.CheckSignatureFrom(root) != nil {
		return cert
	}
	c := *cert
	c.Certificate = cert.Certificate[: n-1 : n-1]
	return &c
}

// table returns the table of the slot's current certificate, or nil.
func (rs *roleState) table() *certTable {
	if v := rs.slot.cur.Load(); v != nil {
		return v.table
	}
	return nil
}

// getCertificate is the role's tls.Config.GetCertificate.
func (rs *roleState) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if rs.challenge != nil && isChallengeHello(hello) {
		return rs.challengeCertificate(hello)
	}
	t := rs.table()
	if t == nil || t.def == nil {
		return nil, rs.noCertificate()
	}
	return t.lookup(hello.ServerName), nil
}

// getClientCertificate is the role's tls.Config.GetClientCertificate: the
// role's default certificate, presented when it dials a peer.
func (rs *roleState) getClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	t := rs.table()
	if t == nil || t.def == nil {
		return nil, rs.noCertificate()
	}
	return t.def, nil
}

func (rs *roleState) noCertificate() error {
	return &roleError{role: rs.role, op: "handshake", err: ErrNoCertificate}
}

// roleConfig returns the role's *tls.Config, building it on first use.
func (m *Manager) roleConfig(rs *roleState) *tls.Config {
	rs.configOnce.Do(func() { rs.config.Store(m.buildConfig(rs)) })
	return rs.config.Load()
}

// buildConfig makes the role's *tls.Config, once.
func (m *Manager) buildConfig(rs *roleState) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: rs.getCertificate}
	if rs.role.Dials() {
		c.GetClientCertificate = rs.getClientCertificate
	}
	switch {
	case rs.role.Mutual():
		// Dial side: Go's own verification is replaced by verifyServer.
		m.mutual(rs, c, nil)
	case rs.role == RoleLeafnodeRemote:
		if roots, ok := m.fixedHubRoots(rs); ok {
			// Fixed roots: crypto/tls verifies the chain, serverAuth and
			// the name the server dialed, IP addresses included, which a
			// VerifyConnection cannot see (see verifyPeer).
			c.RootCAs = roots
			c.Time = m.clock.Now
			break
		}
		c.InsecureSkipVerify = true
		c.VerifyConnection = m.peerVerifier(rs, sideClient)
	case rs.verifyPeers:
		c.ClientAuth = tls.RequireAnyClientCert
		c.VerifyConnection = m.peerVerifier(rs, sideServer)
	}
	rs.answerChallenges(c)
	return c
}

// mutual makes c verify cluster or gateway peers in both directions
// against the private CA's bundle and the extra roots, then runs then (nil:
// nothing) on a verified connection.
func (m *Manager) mutual(rs *roleState, c *tls.Config, then func(tls.ConnectionState) error, extra ...*x509.CertPool) {
	// Dial side: Go's own verification is replaced by verifyServer.
	c.ClientAuth = tls.RequireAnyClientCert
	c.ClientCAs, c.RootCAs = nil, nil
	c.InsecureSkipVerify = true
	c.VerifyConnection = chain(m.peerVerifier(rs, sideClient, extra...), then)
	// Accept side: GetConfigForClient runs only when accepting, and
	// returns a fixed config that verifies the dialing peer.
	srv := c.Clone()
	srv.InsecureSkipVerify = false
	srv.VerifyConnection = chain(m.peerVerifier(rs, sideServer, extra...), then)
	c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return srv, nil }
}

// chain returns a VerifyConnection that runs first, then then (if not nil).
func chain(first, then func(tls.ConnectionState) error) func(tls.ConnectionState) error {
	if then == nil {
		return first
	}
	if first == nil {
		return then
	}
	return func(cs tls.ConnectionState) error {
		if err := first(cs); err != nil {
			return err
		}
		return then(cs)
	}
}
