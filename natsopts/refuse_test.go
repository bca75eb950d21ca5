package natsopts_test

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// peerCert signs a route certificate with ca's key, with the given names,
// extended key usages and validity.
func peerCert(t *testing.T, ca *privateca.CA, names []string, eku []x509.ExtKeyUsage, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	caKeyPEM, err := ca.KeyPEM()
	require.NoError(t, err)
	caKey, err := certutil.DecodeKey(caKeyPEM)
	require.NoError(t, err)
	key, err := certutil.GenerateKey(certutil.P256)
	require.NoError(t, err)
	dns, ips := certutil.SplitNames(names)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     dns, IPAddresses: ips,
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: eku,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate(), key.Public(), caKey)
	require.NoError(t, err)
	c, err := certutil.TLSCertificate([][]byte{der, ca.Certificate().Raw}, key)
	require.NoError(t, err)
	return *c
}

// badPeer starts an unmanaged cluster node serving cert on its route port,
// verifying nothing itself, and dialling routeTo if not empty.
func badPeer(t *testing.T, cert tls.Certificate, routeTo string) (*server.Server, *server.Options) {
	t.Helper()
	opts := baseOpts()
	opts.Cluster.Name, opts.Cluster.Host, opts.Cluster.Port = "C", "127.0.0.1", -1
	opts.Cluster.TLSConfig = &tls.Config{
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAnyClientCert, InsecureSkipVerify: true, // refusals must come from the managed side
	}
	if routeTo != "" {
		opts.Routes = server.RoutesFromStr(routeTo)
	}
	s, _ := startRaw(t, opts)
	return s, opts
}

// TestRouteRefusals: a managed node forms a route with a good peer (the
// control), and refuses peers whose certificate is from another CA, lacks
// clientAuth, is expired, or does not match the name it was dialled at; it
// logs why and forms no route.
func TestRouteRefusals(t *testing.T) {
	ca := newCA(t)
	m := newManager(t, ca, tlsmgr.Config{})
	opts := baseOpts()
	opts.Cluster.Name, opts.Cluster.Host, opts.Cluster.Port = "C", "127.0.0.1", -1
	a, logs := startServer(t, opts, m)
	aURL := fmt.Sprintf("nats://127.0.0.1:%d", opts.Cluster.Port)

	// Control: a managed peer on the same CA forms a route.
	goodOpts := baseOpts()
	goodOpts.Cluster.Name, goodOpts.Cluster.Host, goodOpts.Cluster.Port = "C", "127.0.0.1", -1
	goodOpts.Routes = server.RoutesFromStr(aURL)
	good, _ := startServer(t, goodOpts, newManager(t, ca, tlsmgr.Config{}))
	require.Eventually(t, func() bool { return a.NumRemotes() == 1 && good.NumRemotes() == 1 }, wait, 10*time.Millisecond)
	good.Shutdown()
	good.WaitForShutdown()
	require.Eventually(t, func() bool { return a.NumRoutes() == 0 }, wait, 10*time.Millisecond)

	now := time.Now()
	names := []string{"localhost", "127.0.0.1"}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for _, tc := range []struct {
		name string
		cert func() tls.Certificate
		why  string
	}{
		{"another CA", func() tls.Certificate {
			return peerCert(t, newCA(t), names, both, now.Add(-time.Minute), now.Add(time.Hour))
		}, "unknown authority"},
		{"no clientAuth", func() tls.Certificate {
			return peerCert(t, ca, names, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, now.Add(-time.Minute), now.Add(time.Hour))
		}, "incompatible key usage"},
		{"expired", func() tls.Certificate {
			return peerCert(t, ca, names, both, now.Add(-2*time.Hour), now.Add(-time.Hour))
		}, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := badPeer(t, tc.cert(), aURL)
			line := logs.waitFor(t, "TLS route handshake error", tc.why)
			t.Log(line)
			require.Equal(t, 0, a.NumRoutes())
			require.Equal(t, 0, b.NumRoutes())
			b.Shutdown()
		})
	}

	// A route dialled at an IP address gets chain, usage and expiry checks
	// but no name check (documented in tlsmgr: Go leaves the peer name of an
	// IP dial out of ConnectionState), so only the DNS case is here.
	for _, tc := range []struct {
		name, host string
	}{
		{"name mismatch", "localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, bOpts := badPeer(t, peerCert(t, ca, []string{"other.example.com"}, both, now.Add(-time.Minute), now.Add(time.Hour)), "")
			dialer := baseOpts()
			dialer.Cluster.Name, dialer.Cluster.Host, dialer.Cluster.Port = "C", "127.0.0.1", -1
			dialer.Routes = server.RoutesFromStr("nats://" + net.JoinHostPort(tc.host, fmt.Sprint(bOpts.Cluster.Port)))
			d, dlogs := startServer(t, dialer, newManager(t, ca, tlsmgr.Config{}))
			line := dlogs.waitForAny(t, []string{"TLS route handshake error"}, []string{"Route connection created"})
			t.Log(line)
			require.Contains(t, line, "TLS route handshake error")
			require.Equal(t, 0, d.NumRoutes())
			require.Equal(t, 0, b.NumRoutes())
		})
	}
}
