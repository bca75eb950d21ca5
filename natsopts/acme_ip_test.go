package natsopts_test

import (
	"crypto/tls"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestClientListenerACMEIPAddress: an IP-address certificate (RFC 8738)
// from the ACME CA under the short-lived profile, validated over http-01,
// is served on the client listener, and a nats.go client that dials the IP
// with no server name verifies it against the CA's roots alone.
func TestClientListenerACMEIPAddress(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	storage := tlsmgr.NewMemoryStorage()
	cfg := ca.AcmeConfig(t, storage)
	cfg.DNS01 = nil
	cfg.HTTP01 = &acme.HTTP01{Addr: "127.0.0.1:" + strconv.Itoa(ca.HTTPPort)}
	cfg.Profile = "shortlived"
	iss, err := acme.New(cfg)
	require.NoError(t, err)
	m := newManager(t, newCA(t), tlsmgr.Config{Names: []string{"127.0.0.1"}, Issuer: iss, Storage: storage})

	opts := baseOpts()
	startServer(t, opts, m)
	nc := connect(t, clientURL("127.0.0.1", opts), &tls.Config{RootCAs: ca.Roots(t)})
	cs, err := nc.TLSConnectionState()
	require.NoError(t, err)
	served := cs.PeerCertificates[0]
	require.Empty(t, served.DNSNames)
	require.Len(t, served.IPAddresses, 1)
	require.True(t, served.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")))
	require.Equal(t, 160*time.Hour, served.NotAfter.Sub(served.NotBefore).Round(time.Hour), "the short-lived profile")
	require.Equal(t, leaf(t, m, tlsmgr.RoleClient).Raw, served.Raw)
	roundTrip(t, nc, nc, "acme.ip")
}
