package natsopts_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestClusterMigratesOneNodeAtATime: a managed node whose cluster tls
// block names a ca_file (as nats.conf parses it) forms a route with a
// plain nats-server node on file certificates from that CA, which trusts
// the managed node's private CA bundle, and a message crosses. A peer from
// a third CA is still refused.
func TestClusterMigratesOneNodeAtATime(t *testing.T) {
	ca, fileCA := newCA(t), newCA(t)
	now := time.Now()
	names := []string{"localhost", "127.0.0.1"}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	filePool := x509.NewCertPool()
	filePool.AddCert(fileCA.Certificate())

	m := newManager(t, ca, tlsmgr.Config{})
	aOpts := baseOpts()
	aOpts.Cluster.Name, aOpts.Cluster.Host, aOpts.Cluster.Port = "C", "127.0.0.1", -1
	// cluster { tls { ca_file: file-ca.pem } } parses into this.
	aOpts.Cluster.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: filePool, RootCAs: filePool}
	a, aLogs := startServer(t, aOpts, m)
	require.True(t, m.Serves(aOpts.Cluster.TLSConfig))

	bOpts := baseOpts()
	bOpts.TLSConfig = nil
	bOpts.Cluster.Name, bOpts.Cluster.Host, bOpts.Cluster.Port = "C", "127.0.0.1", -1
	bOpts.Cluster.TLSConfig = &tls.Config{
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{peerCert(t, fileCA, names, both, now.Add(-time.Minute), now.Add(time.Hour))},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: trust(t, m), RootCAs: trust(t, m),
	}
	bOpts.Routes = server.RoutesFromStr(fmt.Sprintf("nats://localhost:%d", aOpts.Cluster.Port))
	b, _ := startRaw(t, bOpts)
	require.Eventually(t, func() bool { return a.NumRemotes() == 1 && b.NumRemotes() == 1 }, wait, 10*time.Millisecond)

	onA := connect(t, clientURL("localhost", aOpts), &tls.Config{RootCAs: trust(t, m)})
	onB, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", bOpts.Port), nats.Timeout(wait))
	require.NoError(t, err)
	t.Cleanup(onB.Close)
	roundTrip(t, onB, onA, "cluster.migrate")

	c, _ := badPeer(t, peerCert(t, newCA(t), names, both, now.Add(-time.Minute), now.Add(time.Hour)), fmt.Sprintf("nats://127.0.0.1:%d", aOpts.Cluster.Port))
	aLogs.waitFor(t, "TLS route handshake error", "unknown authority")
	require.Equal(t, 0, c.NumRoutes())
}

// TestApplyKeepsPolicy: a policy set on a listener's config survives Apply
// (only the certificate source changes), an equal policy gives the same
// pointer, a changed one a new config, and a config with its own
// certificate is left alone and listed by Unmanaged.
func TestApplyKeepsPolicy(t *testing.T) {
	ca := newCA(t)
	m := newManager(t, ca, tlsmgr.Config{})
	clients := trust(t, m)
	policy := func() *tls.Config {
		return &tls.Config{MinVersion: tls.VersionTLS13, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients,
			CurvePreferences: []tls.CurveID{tls.CurveP384}, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
	}
	opts := baseOpts()
	opts.TLSConfig = policy()
	opts.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: routes("tls://localhost:7422"), TLSConfig: &tls.Config{RootCAs: clients}}}
	cert := peerCert(t, ca, []string{"localhost"}, nil, time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
	opts.MQTT.Port, opts.MQTT.TLSConfig = -1, &tls.Config{Certificates: []tls.Certificate{cert}}
	require.NoError(t, natsopts.Apply(opts, m))

	c := opts.TLSConfig
	require.True(t, m.Serves(c))
	require.Equal(t, uint16(tls.VersionTLS13), c.MinVersion)
	require.Equal(t, tls.RequireAndVerifyClientCert, c.ClientAuth)
	require.Same(t, clients, c.ClientCAs)
	require.Equal(t, []tls.CurveID{tls.CurveP384}, c.CurvePreferences)
	require.Equal(t, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, c.CipherSuites)
	require.Empty(t, c.Certificates)
	require.NotNil(t, c.GetCertificate)
	require.True(t, opts.TLSVerify)
	remote := opts.LeafNode.Remotes[0].TLSConfig
	require.Same(t, clients, remote.RootCAs, "the remote's ca_file verifies the hub")
	require.False(t, remote.InsecureSkipVerify)
	require.NotNil(t, remote.GetClientCertificate)

	again := baseOpts()
	again.TLSConfig = policy()
	require.NoError(t, natsopts.Apply(again, m))
	require.Same(t, c, again.TLSConfig, "an equal policy parsed again gives the same config")
	changed := baseOpts()
	changed.TLSConfig = policy()
	changed.TLSConfig.MinVersion = tls.VersionTLS12
	require.NoError(t, natsopts.Apply(changed, m))
	require.NotSame(t, c, changed.TLSConfig)
	require.Equal(t, uint16(tls.VersionTLS12), changed.TLSConfig.MinVersion)

	require.Len(t, opts.MQTT.TLSConfig.Certificates, 1, "a config with its own certificate is kept")
	require.False(t, m.Serves(opts.MQTT.TLSConfig))
	un := natsopts.Unmanaged(opts, m)
	require.Len(t, un, 1)
	require.Equal(t, "mqtt", un[0].Name)
	require.Equal(t, cert.Leaf.NotAfter, un[0].Certificate.NotAfter)
	require.Equal(t, cert.Leaf.NotAfter, natsopts.Expiry(opts, m)["mqtt"])
}

// TestOCSPPeerOnRemoteWithoutCAFile: ocsp_peer on a leafnode remote that
// the Manager verifies itself (no ca_file, private CA) is refused, naming
// the nats.conf setting; with ca_file it is kept.
func TestOCSPPeerOnRemoteWithoutCAFile(t *testing.T) {
	ca := newCA(t)
	// No PeerRoots: the Manager verifies the hub against its private CA.
	m := newManager(t, ca, tlsmgr.Config{Roles: map[tlsmgr.Role]tlsmgr.RoleConfig{tlsmgr.RoleLeafnodeRemote: {}}})
	dir := t.TempDir()
	caFile := filepath.Join(dir, "hub.pem")
	require.NoError(t, os.WriteFile(caFile, m.TrustBundlePEM(), 0o644))
	for _, tc := range []struct {
		name, tls string
		refused   bool
	}{
		{"without ca_file", "ocsp_peer: true", true},
		{"with ca_file", fmt.Sprintf("ocsp_peer: true, ca_file: %q", caFile), false},
		{"off", "ocsp_peer: false", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := filepath.Join(dir, "nats.conf")
			require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, "port: -1\nleafnodes { remotes: [ { url: \"tls://127.0.0.1:7422\", tls: { %s } } ] }\n", tc.tls), 0o600))
			opts, err := server.ProcessConfigFile(conf)
			require.NoError(t, err)
			err = natsopts.Check(opts, m)
			if !tc.refused {
				require.NoError(t, err)
				return
			}
			var ce *natsopts.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "leafnodes.remotes[0].tls.ocsp_peer", ce.Conf)
		})
	}
}

// TestRateLimitFromFile: connection_rate_limit parsed from a configuration
// file is kept (nats-server reads it from the parsed block), while the
// same limit set in code is refused (NewServer would panic on it).
func TestRateLimitFromFile(t *testing.T) {
	m := newManager(t, newCA(t), tlsmgr.Config{})
	conf := filepath.Join(t.TempDir(), "nats.conf")
	require.NoError(t, os.WriteFile(conf, []byte("host: 127.0.0.1\nport: -1\ntls { connection_rate_limit: 100 }\n"), 0o600))
	opts, err := server.ProcessConfigFile(conf)
	require.NoError(t, err)
	opts.NoSigs = true
	require.Equal(t, int64(100), opts.TLSRateLimit)
	s, _ := startServer(t, opts, m)
	connect(t, clientURL("localhost", opts), &tls.Config{RootCAs: trust(t, m)})
	require.Equal(t, 1, s.NumClients())

	inCode := baseOpts()
	inCode.TLSRateLimit = 100
	var ce *natsopts.ConfigError
	require.ErrorAs(t, natsopts.Check(inCode, m), &ce)
	require.Equal(t, "TLSRateLimit", ce.Option)
}

// TestGatewayRemoteWithOwnCAFile: a managed gateway whose tls block and
// remote entry (gateways: [{name: B, tls: {ca_file}}]) name the other
// side's CA connects both ways with a plain nats-server gateway on file
// certificates from that CA, which trusts the private CA bundle.
func TestGatewayRemoteWithOwnCAFile(t *testing.T) {
	ca, fileCA := newCA(t), newCA(t)
	now := time.Now()
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	filePool := x509.NewCertPool()
	filePool.AddCert(fileCA.Certificate())
	m := newManager(t, ca, tlsmgr.Config{})

	bOpts := baseOpts()
	bOpts.TLSConfig = nil
	bOpts.ServerName, bOpts.Gateway.Name, bOpts.Gateway.Host, bOpts.Gateway.Port = "b", "B", "127.0.0.1", -1
	bOpts.Gateway.TLSConfig = &tls.Config{
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{peerCert(t, fileCA, []string{"localhost", "127.0.0.1"}, both, now.Add(-time.Minute), now.Add(time.Hour))},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: trust(t, m), RootCAs: trust(t, m),
	}
	b, _ := startRaw(t, bOpts)

	aOpts := baseOpts()
	aOpts.ServerName, aOpts.Gateway.Name, aOpts.Gateway.Host, aOpts.Gateway.Port = "a", "A", "127.0.0.1", -1
	// nats-server verifies inbound gateways with the gateway's own config
	// and dials B with the remote entry's, so both name B's CA.
	aOpts.Gateway.TLSConfig = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: filePool, RootCAs: filePool}
	aOpts.Gateway.Gateways = []*server.RemoteGatewayOpts{{
		Name: "B", URLs: routes(fmt.Sprintf("nats://127.0.0.1:%d", bOpts.Gateway.Port)),
		TLSConfig: &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: filePool, RootCAs: filePool},
	}}
	a, _ := startServer(t, aOpts, m)
	require.True(t, m.Serves(aOpts.Gateway.Gateways[0].TLSConfig))

	require.Eventually(t, func() bool { return gateways(t, a) == [2]int{1, 1} && gateways(t, b) == [2]int{1, 1} }, wait, 10*time.Millisecond)
	aNC := connect(t, clientURL("localhost", aOpts), &tls.Config{RootCAs: trust(t, m)})
	bNC, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", bOpts.Port), nats.Timeout(wait))
	require.NoError(t, err)
	t.Cleanup(bNC.Close)
	roundTrip(t, aNC, bNC, "gw.ab")
	roundTrip(t, bNC, aNC, "gw.ba")
}
