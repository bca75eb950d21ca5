package tlsmgr_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// alpnIssuer is a testIssuer with one pending tls-alpn-01 challenge.
type alpnIssuer struct {
	*testIssuer
	name string
	cert *tls.Certificate
}

func (a *alpnIssuer) ChallengeCertificate(serverName string) *tls.Certificate {
	if serverName == a.name {
		return a.cert
	}
	return nil
}

// TestTLSALPNChallengeOnManagedListeners: a handshake offering only
// acme-tls/1 gets the issuer's challenge certificate and negotiates the
// protocol; a NATS-style handshake (no ALPN) and an HTTP one (http/1.1) on
// the same listener get the role's certificate, unchanged.
func TestTLSALPNChallengeOnManagedListeners(t *testing.T) {
	clock := newClock()
	ca := newCA(t, clock, 0)
	challengeCA := newCA(t, clock, 0)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	chain, err := challengeCA.Issue(testCtx(t), key, []string{"alpn.example.test"}, nil)
	require.NoError(t, err)
	challenge := &tls.Certificate{Certificate: chain, PrivateKey: key}
	iss := &alpnIssuer{testIssuer: &testIssuer{RootsIssuer: ca, key: "alpn-test"}, name: "alpn.example.test", cert: challenge}
	m := startManager(t, tlsmgr.Config{Names: []string{"alpn.example.test"}, Issuer: iss, PrivateCA: ca, Storage: tlsmgr.NewMemoryStorage(), Clock: clock})

	for _, role := range []tlsmgr.Role{tlsmgr.RoleClient, tlsmgr.RoleWebsocket, tlsmgr.RoleMQTT, tlsmgr.RoleLeafnode} {
		t.Run(string(role), func(t *testing.T) {
			cfg, err := m.TLSConfig(role)
			require.NoError(t, err)
			addr := serve(t, cfg)

			c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "alpn.example.test", NextProtos: []string{tlsmgr.ACMETLS1}})
			require.NoError(t, err)
			st := c.ConnectionState()
			c.Close()
			require.Equal(t, tlsmgr.ACMETLS1, st.NegotiatedProtocol)
			require.Equal(t, chain[0], st.PeerCertificates[0].Raw, "the challenge certificate")

			_, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "other.example.test", NextProtos: []string{tlsmgr.ACMETLS1}})
			require.Error(t, err, "no challenge pending for that name")

			roots := x509.NewCertPool()
			roots.AddCert(ca.Certificate())
			for _, protos := range [][]string{nil, {"http/1.1"}, {"h2", "http/1.1"}} {
				c, err := dial(t, addr, &tls.Config{RootCAs: roots, ServerName: "alpn.example.test", NextProtos: protos})
				require.NoError(t, err, "ALPN %v", protos)
				require.NotEqual(t, tlsmgr.ACMETLS1, c.ConnectionState().NegotiatedProtocol)
				require.NotEqual(t, chain[0], c.ConnectionState().PeerCertificates[0].Raw)
			}
		})
	}
}
