package tlsmgr_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// The README's embedding example declares `var issuer *acme.Issuer` and
// passes it as Config.Issuer, where nil means the private CA. A nil
// pointer in the interface must mean that too, not panic in New.
func TestNilPointerIssuerMeansPrivateCA(t *testing.T) {
	var issuer *acme.Issuer
	m, err := tlsmgr.New(tlsmgr.Config{
		Names:   []string{"localhost"},
		Issuer:  issuer,
		Storage: tlsmgr.NewMemoryStorage(),
		Roles:   map[tlsmgr.Role]tlsmgr.RoleConfig{tlsmgr.RoleWebsocket: {Issuer: issuer}},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, m.Start(ctx))
	defer m.Close()
	for _, role := range []tlsmgr.Role{tlsmgr.RoleClient, tlsmgr.RoleWebsocket} {
		cert, _, err := m.Current(role)
		require.NoError(t, err, role)
		require.NotNil(t, cert.Leaf, role)
		require.Equal(t, m.CACertificate().Subject.String(), cert.Leaf.Issuer.String(), "%s is signed by the private CA", role)
	}

	_, err = tlsmgr.New(tlsmgr.Config{Storage: tlsmgr.NewMemoryStorage(), Issuers: []tlsmgr.Issuer{issuer}})
	require.ErrorContains(t, err, "issuer 0 is nil")
}
