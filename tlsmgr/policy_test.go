package tlsmgr_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

func TestTLSConfigFor(t *testing.T) {
	m, err := tlsmgr.New(tlsmgr.Config{Storage: tlsmgr.NewMemoryStorage()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	roots := x509.NewCertPool()

	plain, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	got, err := m.TLSConfigFor(tlsmgr.RoleClient, "client", nil)
	require.NoError(t, err)
	require.Same(t, plain, got, "no policy: the role's config")
	require.True(t, m.Serves(plain))

	p := &tls.Config{MinVersion: tls.VersionTLS13, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots}
	c1, err := m.TLSConfigFor(tlsmgr.RoleClient, "client", p)
	require.NoError(t, err)
	again, err := m.TLSConfigFor(tlsmgr.RoleClient, "client", p.Clone())
	require.NoError(t, err)
	require.Same(t, c1, again, "an equal policy at the same place")
	same, err := m.TLSConfigFor(tlsmgr.RoleClient, "client", c1)
	require.NoError(t, err)
	require.Same(t, c1, same, "a config of the Manager is returned as it is")
	other, err := m.TLSConfigFor(tlsmgr.RoleClient, "https", p)
	require.NoError(t, err)
	require.NotSame(t, c1, other, "another place gets its own config")
	require.True(t, m.Serves(c1))
	require.False(t, m.Serves(p))
	require.Equal(t, uint16(tls.VersionTLS13), c1.MinVersion)
	require.NotNil(t, c1.GetCertificate)
	require.Nil(t, c1.GetClientCertificate, "the client role does not dial")

	// Callbacks cannot be compared: equal only to the same pointer.
	withCB := &tls.Config{VerifyConnection: func(tls.ConnectionState) error { return nil }}
	cb1, err := m.TLSConfigFor(tlsmgr.RoleWebsocket, "ws", withCB)
	require.NoError(t, err)
	cb2, err := m.TLSConfigFor(tlsmgr.RoleWebsocket, "ws", withCB)
	require.NoError(t, err)
	require.Same(t, cb1, cb2)
	cb3, err := m.TLSConfigFor(tlsmgr.RoleWebsocket, "ws", withCB.Clone())
	require.NoError(t, err)
	require.NotSame(t, cb1, cb3)

	// Dialing roles get a client certificate source too.
	remote, err := m.TLSConfigFor(tlsmgr.RoleLeafnodeRemote, "leafnode remote 0", &tls.Config{RootCAs: roots})
	require.NoError(t, err)
	require.Same(t, roots, remote.RootCAs)
	require.NotNil(t, remote.GetClientCertificate)
	route, err := m.TLSConfigFor(tlsmgr.RoleCluster, "cluster", &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, RootCAs: roots, ClientCAs: roots})
	require.NoError(t, err)
	require.True(t, route.InsecureSkipVerify, "the Manager verifies routes itself")
	require.NotNil(t, route.VerifyConnection)
	require.NotNil(t, route.GetConfigForClient)

	for name, bad := range map[string]*tls.Config{
		"own certificate": {Certificates: make([]tls.Certificate, 1)},
		"own callback":    {GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return nil, nil }},
		"insecure":        {InsecureSkipVerify: true},
	} {
		_, err := m.TLSConfigFor(tlsmgr.RoleClient, "client", bad)
		require.Error(t, err, name)
	}
	_, err = m.TLSConfigFor(tlsmgr.RoleClient, "client", &tls.Config{Certificates: make([]tls.Certificate, 1)})
	require.True(t, errors.Is(err, tlsmgr.ErrOwnCertificate))
	require.True(t, m.HasOwnCertificate(&tls.Config{Certificates: make([]tls.Certificate, 1)}))
	require.False(t, m.HasOwnCertificate(c1))
	_, err = m.TLSConfigFor(tlsmgr.RoleCluster, "cluster", &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return nil, nil }})
	require.Error(t, err)
}
