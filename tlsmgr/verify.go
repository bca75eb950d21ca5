package tlsmgr

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// side is which end of a handshake the Manager's role plays.
type side int

const (
	sideServer side = iota // we accept: the peer is a TLS client
	sideClient             // we dial: the peer is a TLS server
)

// A PeerError reports a peer certificate refused at a handshake.
type PeerError struct {
	Role   Role   // the role whose handshake refused the peer
	Server bool   // true if we were the TLS server (the peer dialed us)
	Peer   string // the peer leaf's subject, or "" if it sent none
	Err    error  // why: a verification error from crypto/x509, or a name or usage mismatch
}

// Error names the role, the side and the reason.
func (e *PeerError) Error() string {
	who := "server"
	if e.Server {
		who = "client"
	}
	peer := ""
	if e.Peer != "" {
		peer = " " + e.Peer
	}
	return fmt.Sprintf("tlsmgr: role %s: verify %s certificate%s: %v", e.Role, who, peer, e.Err)
}

// Unwrap returns the reason.
func (e *PeerError) Unwrap() error { return e.Err }

// peerVerifier returns the VerifyConnection callback of a role for one
// side: the cluster and gateway verification, in both directions, and the
// leafnode's while it follows the private CA. It re-reads the trusted roots
// at each handshake, so a CA rotation takes effect without a reload, and
// checks the peer's chain to those roots, its EKU and its expiry.
//
// Limitation: a peer dialled by IP address gets the chain, EKU and expiry
// checks but no name check. crypto/tls leaves ConnectionState.ServerName
// empty when the dialer's ServerName is an IP address, and the callback
// cannot see the ServerName nats-server set on its clone of the config,
// so there is no name to check. Route and gateway URLs with DNS names get
// the full check, name included. With the private CA, which issues only to
// the Managers sharing it, an IP-dialled peer is thus proven a member of
// the cluster, but not which member.
//
// extra are roots trusted next to the private CA's bundle (a cluster's
// ca_file): a peer chaining to any of them is accepted.
func (m *Manager) peerVerifier(rs *roleState, sd side, extra ...*x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		roots, err := m.peerRoots(rs)
		if err == nil {
			err = verifyPeer(cs, roots, sd, m.clock.Now())
		}
		for _, pool := range extra {
			if err != nil && verifyPeer(cs, pool, sd, m.clock.Now()) == nil {
				err = nil
			}
		}
		if err != nil {
			pe := &PeerError{Role: rs.role, Server: sd == sideServer, Err: err}
			if len(cs.PeerCertificates) > 0 {
				pe.Peer = cs.PeerCertificates[0].Subject.String()
			}
			m.log.Warn("tlsmgr: peer refused", "role", rs.role, "error", pe.Error())
			return pe
		}
		return nil
	}
}

// fixedHubRoots returns the roots the leafnode remote verifies the hub
// against when they do not follow the private CA: its PeerRoots, else the
// roots of a RootsIssuer Config.Issuer (nil: system roots), else the
// system roots for another Config.Issuer. ok is false in development mode
// (no Config.Issuer), where the hub's certificate comes from the private CA
// whose bundle may rotate.
func (m *Manager) fixedHubRoots(rs *roleState) (roots *x509.CertPool, ok bool) {
	if rs.peerRoots != nil {
		return rs.peerRoots, true
	}
	if m.cfg.Issuer == nil {
		return nil, false
	}
	if ri, isRoots := m.cfg.Issuer.(RootsIssuer); isRoots {
		return ri.Roots(), true
	}
	return nil, true
}

// peerRoots returns the private CA's current bundle, which the peers of
// every role verified by VerifyConnection must chain to (the leafnode
// remote uses it only in development mode; see fixedHubRoots).
func (m *Manager) peerRoots(*roleState) (*x509.CertPool, error) {
	ca := m.privateCA()
	if ca == nil {
		return nil, errors.New("no private CA yet (Manager not started)")
	}
	roots := ca.Roots()
	if roots == nil {
		return nil, errors.New("the private CA has no roots")
	}
	return roots, nil
}

// verifyPeer verifies the peer's chain to roots at now, with the EKU its
// side needs: clientAuth for a dialing peer, serverAuth and the expected
// name (cs.ServerName, as set by the dialer) for an accepting one.
// Certificates the peer sent after its leaf are only ever intermediates.
//
// cs.ServerName is empty for a peer dialled by IP address (nats-server
// uses the host of the peer's URL, often an IP for gossiped routes): then
// no name is checked, as peerVerifier documents. Roots that do not rotate
// (leafnode remote with public roots) are verified by crypto/tls itself
// instead, which checks IP addresses too.
func verifyPeer(cs tls.ConnectionState, roots *x509.CertPool, sd side, now time.Time) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("peer presented no certificate")
	}
	opts := x509.VerifyOptions{
		Roots:         roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if sd == sideClient {
		opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		opts.DNSName = cs.ServerName
	}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err
}
