package acme

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/go-acme/lego/v4/challenge/tlsalpn01"
	"github.com/miekg/dns"
)

// TLSALPN01 answers tls-alpn-01 challenges (RFC 8737) on the TLS
// listeners of the tlsmgr.Manager that uses the Issuer, through
// [Issuer.ChallengeCertificate]: no port 80, no DNS access, no listener of
// its own. The CA connects to port 443 of each name, so a public listener
// of that Manager (websocket or HTTPS monitoring, typically) must be
// reachable there. It proves DNS names and IP addresses, not wildcards.
type TLSALPN01 struct{}

// alpnSolver keeps the challenge certificates of the pending tls-alpn-01
// challenges, keyed by the server name the CA sends. It implements lego's
// challenge.Provider.
type alpnSolver struct {
	// mu guards certs.
	mu    sync.Mutex
	certs map[string]*tls.Certificate
}

func newALPNSolver() *alpnSolver { return &alpnSolver{certs: map[string]*tls.Certificate{}} }

// alpnServerName is the server name a CA's validation sends for
// identifier: the name itself, or for an IP address its reverse-DNS name
// (RFC 8738 section 6).
func alpnServerName(identifier string) string {
	if net.ParseIP(identifier) != nil {
		if rev, err := dns.ReverseAddr(identifier); err == nil {
			return strings.TrimSuffix(rev, ".")
		}
	}
	return strings.ToLower(strings.TrimSuffix(identifier, "."))
}

// Present makes the challenge certificate for domain available.
func (s *alpnSolver) Present(domain, _, keyAuth string) error {
	cert, err := tlsalpn01.ChallengeCert(domain, keyAuth)
	if err != nil {
		return fmt.Errorf("tls-alpn-01 challenge certificate for %s: %w", domain, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs[alpnServerName(domain)] = cert
	return nil
}

// CleanUp withdraws the challenge certificate for domain.
func (s *alpnSolver) CleanUp(domain, _, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.certs, alpnServerName(domain))
	return nil
}

// get returns the pending challenge certificate for serverName, or nil.
func (s *alpnSolver) get(serverName string) *tls.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certs[strings.ToLower(strings.TrimSuffix(serverName, "."))]
}

// ChallengeCertificate returns the certificate answering a pending
// tls-alpn-01 challenge for serverName, or nil if none is pending or
// Config.TLSALPN01 is nil. A tlsmgr.Manager calls it from its listeners'
// GetCertificate for handshakes that offer only the acme-tls/1 protocol.
// Safe for concurrent use.
func (i *Issuer) ChallengeCertificate(serverName string) *tls.Certificate {
	if i.alpn == nil {
		return nil
	}
	return i.alpn.get(serverName)
}
