package tlsmgr_test

import (
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

func TestDevModeServesEveryRole(t *testing.T) {
	m := startManager(t, tlsmgr.Config{Storage: tlsmgr.NewMemoryStorage()})
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(m.TrustBundlePEM()))
	for _, r := range []tlsmgr.Role{tlsmgr.RoleClient, tlsmgr.RoleWebsocket, tlsmgr.RoleMQTT, tlsmgr.RoleLeafnode} {
		t.Run(string(r), func(t *testing.T) {
			cfg, err := m.TLSConfig(r)
			require.NoError(t, err)
			again, _ := m.TLSConfig(r)
			require.Same(t, cfg, again)
			require.Empty(t, cfg.Certificates)
			require.Empty(t, cfg.NextProtos)
			addr := serve(t, cfg)
			leaf := servedLeaf(t, addr, roots, "localhost")
			require.ElementsMatch(t, []string{"localhost"}, leaf.DNSNames)
			require.Len(t, leaf.IPAddresses, 2)
			// Empty SNI: the role's default certificate.
			noSNI := servedLeaf(t, addr, nil, "")
			require.Equal(t, leaf.SerialNumber, noSNI.SerialNumber)
		})
	}
}
