package natsopts_test

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestClientListenerACME: with an ACME issuer (in-process Pebble, DNS-01),
// a nats.go client that trusts only Pebble's roots verifies the client
// listener's certificate by its DNS name, dialling 127.0.0.1 with SNI.
func TestClientListenerACME(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	storage := tlsmgr.NewMemoryStorage()
	name := fmt.Sprintf("natsopts-%d.example.test", time.Now().UnixNano())
	iss, err := acme.New(ca.AcmeConfig(t, storage))
	require.NoError(t, err)
	m := newManager(t, newCA(t), tlsmgr.Config{Names: []string{name}, Issuer: iss, Storage: storage})

	opts := baseOpts()
	startServer(t, opts, m)
	nc := connect(t, clientURL("127.0.0.1", opts), &tls.Config{RootCAs: ca.Roots(t), ServerName: name})
	cs, err := nc.TLSConnectionState()
	require.NoError(t, err)
	served := cs.PeerCertificates[0]
	require.Equal(t, []string{name}, served.DNSNames)
	require.False(t, strings.Contains(served.Issuer.CommonName, "natsopts test CA"), "served by the private CA, not ACME")
	require.Equal(t, leaf(t, m, tlsmgr.RoleClient).Raw, served.Raw)
	roundTrip(t, nc, nc, "acme.check")
}
