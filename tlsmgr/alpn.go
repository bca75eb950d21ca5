package tlsmgr

import (
	"crypto/tls"
	"fmt"
	"slices"
)

// ACMETLS1 is the ALPN protocol of the ACME tls-alpn-01 challenge (RFC
// 8737).
const ACMETLS1 = "acme-tls/1"

// A ChallengeCertifier is an [Issuer] that answers ACME tls-alpn-01
// challenges through the Manager's own TLS listeners, as
// [github.com/nats-autotls/autotls/acme.Issuer] does with TLSALPN01 set:
// no port 80 and no DNS access, only a public listener on the port the CA
// connects to (443).
//
// A handshake that offers exactly the acme-tls/1 protocol (the CA's
// validation, never a NATS client) gets the challenge certificate; every
// other handshake is served as before. The protocol is negotiated through
// GetConfigForClient, which nats-server replaces on the websocket and HTTPS
// monitoring listeners: there acme-tls/1 is added to NextProtos after
// http/1.1, so that HTTP clients keep negotiating HTTP/1.1. A listener
// that requires client certificates (verify) cannot be validated on the
// websocket or monitoring port, since the CA presents none.
type ChallengeCertifier interface {
	Issuer
	// ChallengeCertificate returns the certificate answering the pending
	// tls-alpn-01 challenge for serverName, or nil if none is pending.
	ChallengeCertificate(serverName string) *tls.Certificate
}

// challengeCertifiers returns iss, or the members of a Fallback, that
// answer tls-alpn-01.
func challengeCertifiers(iss Issuer) []ChallengeCertifier {
	members := []Issuer{iss}
	if f, ok := iss.(*Fallback); ok {
		members = f.Issuers()
	}
	var out []ChallengeCertifier
	for _, m := range members {
		if cc, ok := m.(ChallengeCertifier); ok {
			out = append(out, cc)
		}
	}
	return out
}

// isChallengeHello reports whether hello is a tls-alpn-01 validation: it
// offers acme-tls/1 and nothing else (RFC 8737 section 3).
func isChallengeHello(hello *tls.ClientHelloInfo) bool {
	return len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == ACMETLS1
}

// challengeCertificate answers a tls-alpn-01 validation.
func (rs *roleState) challengeCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	for _, cc := range rs.challenge {
		if c := cc.ChallengeCertificate(hello.ServerName); c != nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("tlsmgr: role %s: no tls-alpn-01 challenge pending for %q", rs.role, hello.ServerName)
}

// answerChallenges makes c negotiate acme-tls/1 for tls-alpn-01
// validations, if the role's issuer answers them.
func (rs *roleState) answerChallenges(c *tls.Config) {
	if len(rs.challenge) == 0 {
		return
	}
	// Where GetConfigForClient runs (client, MQTT, leafnode): a config of
	// its own for validations only, so NATS clients see no change.
	validation := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{ACMETLS1}, GetCertificate: rs.getCertificate}
	prev := c.GetConfigForClient
	c.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if isChallengeHello(hello) {
			return validation, nil
		}
		if prev != nil {
			return prev(hello)
		}
		return nil, nil
	}
	// Where nats-server replaces GetConfigForClient (websocket; HTTPS
	// monitoring, which serves the client role's config): in NextProtos,
	// after the HTTP/1.1 that HTTP clients negotiate.
	if (rs.role == RoleWebsocket || rs.role == RoleClient) && !slices.Contains(c.NextProtos, ACMETLS1) {
		protos := slices.Clone(c.NextProtos)
		if !slices.Contains(protos, "http/1.1") {
			protos = append(protos, "http/1.1")
		}
		c.NextProtos = append(protos, ACMETLS1)
	}
}
