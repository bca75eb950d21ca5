package tlsmgr_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// acmeIssuer returns an ACME issuer for the Pebble harness ca, keeping its
// account in storage.
func acmeIssuer(t *testing.T, ca *acmetest.CA, storage tlsmgr.Storage) *acme.Issuer {
	t.Helper()
	iss, err := acme.New(ca.AcmeConfig(t, storage))
	require.NoError(t, err)
	return iss
}

// uniqueName returns a DNS name unique to the test: the harness's DNS
// server is shared by the whole test binary.
func uniqueName(t *testing.T) string {
	return fmt.Sprintf("%s-%d.example.test", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())
}

func TestLifecycleWithACME(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	storage := tlsmgr.NewFileStorage(t.TempDir())
	clock := newClock()
	name := uniqueName(t)
	cfg := func() tlsmgr.Config {
		return tlsmgr.Config{Names: []string{name}, Issuer: acmeIssuer(t, ca, storage), Storage: storage, Clock: clock}
	}

	// Empty storage: one order, served at the next handshake.
	first := startManager(t, cfg())
	require.Equal(t, 1, ca.Orders())
	tlsCfg, err := first.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	leaf := servedLeaf(t, serve(t, tlsCfg), ca.Roots(t), name)
	require.Equal(t, []string{name}, leaf.DNSNames)
	require.NoError(t, first.Close())

	// Restart on the same storage: no new order.
	events := newEventLog()
	c := cfg()
	c.OnEvent = events.add
	second := startManager(t, c)
	require.Equal(t, 1, ca.Orders())
	tlsCfg, err = second.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	addr := serve(t, tlsCfg)
	open, err := dial(t, addr, tlsConfigFor(ca.Roots(t), name))
	require.NoError(t, err)
	require.Equal(t, leaf.SerialNumber, open.ConnectionState().PeerCertificates[0].SerialNumber)

	// The CA asks for renewal (ARI); the next advice check renews.
	require.NoError(t, clock.WaitTimers(testCtx(t), 2)) // public and private certificates
	next, ok := clock.Next()
	require.True(t, ok)
	ca.RenewNow(t, leaf)
	clock.Set(next)
	events.wait(t, tlsmgr.EventRenewed)
	require.Equal(t, 2, ca.Orders())
	require.True(t, ca.Replaced(leaf), "the renewal named the certificate it replaces")

	renewed := servedLeaf(t, addr, ca.Roots(t), name)
	require.NotEqual(t, leaf.SerialNumber, renewed.SerialNumber)
	echo(t, open) // the connection opened before the renewal still works
	st := second.Status()[0]
	require.Equal(t, fmt.Sprintf("%x", renewed.SerialNumber), st.Serial)
	require.Equal(t, []tlsmgr.Role{tlsmgr.RoleClient, tlsmgr.RoleWebsocket, tlsmgr.RoleMQTT, tlsmgr.RoleLeafnode}, st.Roles)
}
