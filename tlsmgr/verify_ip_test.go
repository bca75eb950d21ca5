package tlsmgr_test

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestLeafnodeRemoteChecksHubName dials a hub through the leafnode-remote
// role with PeerRoots, as nats-server does: ServerName is the host of the
// remote URL, an IP address or a DNS name. The hub's certificate must name
// it; crypto/tls drops IP addresses from ConnectionState.ServerName, so the
// IP case is where a verifier reading only the connection state goes wrong.
func TestLeafnodeRemoteChecksHubName(t *testing.T) {
	hubCA := newCA(t, nil, 0)
	hubCert, hubKey := caSigner(t, hubCA)
	roots := x509.NewCertPool()
	roots.AddCert(hubCert)
	m := startManager(t, tlsmgr.Config{
		PrivateCA: newCA(t, nil, 0), Storage: tlsmgr.NewMemoryStorage(),
		Roles: map[tlsmgr.Role]tlsmgr.RoleConfig{tlsmgr.RoleLeafnodeRemote: {PeerRoots: roots}},
	})
	srvAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	tests := []struct {
		name       string
		certNames  []string
		ekus       []x509.ExtKeyUsage
		serverName string
		wantErr    bool
	}{
		{"IP matches", []string{"127.0.0.1"}, srvAuth, "127.0.0.1", false},
		{"DNS matches", []string{"hub.example.net"}, srvAuth, "hub.example.net", false},
		{"IP differs", []string{"10.9.9.9"}, srvAuth, "127.0.0.1", true},
		{"IP dialed, only DNS in certificate", []string{"hub.example.net"}, srvAuth, "127.0.0.1", true},
		{"DNS differs", []string{"other.example.net"}, srvAuth, "hub.example.net", true},
		{"no serverAuth", []string{"127.0.0.1"}, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, "127.0.0.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := must(makeCert(t, leafSpec{names: tt.certNames, ekus: tt.ekus}, hubCert, hubKey))
			addr := serve(t, &tls.Config{Certificates: []tls.Certificate{*cert}})
			_, err := dial(t, addr, dialer(t, m, tlsmgr.RoleLeafnodeRemote, tt.serverName))
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
		})
	}
}
