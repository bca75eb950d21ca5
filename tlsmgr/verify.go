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
	Role   Role
	Server bool   // true if we were the TLS server (the peer dialed us)
	Peer   string // the peer leaf's subject, or "" if it sent none
	Err    error
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
// side. It re-reads the trusted roots at each handshake, so a CA rotation
// takes effect without a reload.
func (m *Manager) peerVerifier(rs *roleState, sd side) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		roots, err := m.peerRoots(rs)
		if err == nil {
			err = verifyPeer(cs, roots, sd, m.clock.Now())
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

// peerRoots returns the roots a role's peers must chain to: for the
// leafnode remote, its PeerRoots, else the public issuer's roots or nil
// (system roots), else (no public issuer) the private CA's; for the others,
// the private CA's current bundle.
func (m *Manager) peerRoots(rs *roleState) (*x509.CertPool, error) {
	if rs.role == RoleLeafnodeRemote {
		if rs.peerRoots != nil {
			return rs.peerRoots, nil
		}
		if m.cfg.Issuer != nil {
			if ri, ok := m.cfg.Issuer.(RootsIssuer); ok {
				return ri.Roots(), nil // nil: system roots
			}
			return nil, nil
		}
		// Development mode: the hub's certificate comes from the private CA.
	}
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
// name (cs.ServerName, as set by the dialer) for an accepting one. When
// ServerName is empty only the chain and EKU are checked.
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
