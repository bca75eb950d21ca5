package natsopts_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestClientListener: nats.go clients verify the client listener's
// certificate, once with SNI ("localhost") and once dialling 127.0.0.1
// (Go sends no SNI for an IP), and both get the Manager's certificate.
func TestClientListener(t *testing.T) {
	m := newManager(t, newCA(t), tlsmgr.Config{})
	opts := baseOpts()
	s, _ := startServer(t, opts, m)
	pool := trust(t, m)
	want := leaf(t, m, tlsmgr.RoleClient)

	for _, tc := range []struct {
		name, host, serverName string
	}{
		{"SNI localhost", "localhost", "localhost"},
		{"IP without SNI", "127.0.0.1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := connect(t, clientURL(tc.host, opts), &tls.Config{RootCAs: pool, ServerName: tc.serverName})
			cs, err := nc.TLSConnectionState()
			require.NoError(t, err)
			require.Equal(t, want.Raw, cs.PeerCertificates[0].Raw)
			roundTrip(t, nc, nc, "client.check")
		})
	}
	require.Equal(t, 0, s.NumRoutes())
}

// TestClientHandshakeFirst: with HandshakeFirst the client port starts with
// TLS, as a client behind a TLS-passthrough proxy needs, and a nats.go
// client in handshake-first mode gets the managed certificate.
func TestClientHandshakeFirst(t *testing.T) {
	m := newManager(t, newCA(t), tlsmgr.Config{})
	opts := baseOpts()
	startServer(t, opts, m, natsopts.HandshakeFirst(true))

	nc := connect(t, clientURL("localhost", opts), &tls.Config{RootCAs: trust(t, m)}, nats.TLSHandshakeFirst())
	cs, err := nc.TLSConnectionState()
	require.NoError(t, err)
	require.Equal(t, leaf(t, m, tlsmgr.RoleClient).Raw, cs.PeerCertificates[0].Raw)
	roundTrip(t, nc, nc, "client.first")
}

// TestHTTPSMonitoring: a verifying HTTPS client gets /varz, with the client
// listener on and with HTTPS monitoring as the only listener.
func TestHTTPSMonitoring(t *testing.T) {
	m := newManager(t, newCA(t), tlsmgr.Config{})
	client := &http.Client{Timeout: wait, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trust(t, m)}}}
	t.Cleanup(client.CloseIdleConnections)
	for _, tc := range []struct {
		name       string
		dontListen bool
	}{
		{"with client listener", false},
		{"HTTPS only", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := baseOpts()
			opts.HTTPHost, opts.HTTPSPort, opts.DontListen = "127.0.0.1", -1, tc.dontListen
			s, _ := startServer(t, opts, m)
			require.NotNil(t, s.MonitorAddr())
			resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/varz", s.MonitorAddr().Port))
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Contains(t, string(body), s.ID())
			require.Equal(t, leaf(t, m, tlsmgr.RoleClient).Raw, resp.TLS.PeerCertificates[0].Raw)
		})
	}
}

// TestWebsocket: nats.go over wss:// verifies the websocket certificate.
func TestWebsocket(t *testing.T) {
	m := newManager(t, newCA(t), tlsmgr.Config{})
	opts := baseOpts()
	opts.Websocket.Host, opts.Websocket.Port = "127.0.0.1", -1
	startServer(t, opts, m)
	nc := connect(t, fmt.Sprintf("wss://localhost:%d", opts.Websocket.Port), &tls.Config{RootCAs: trust(t, m)})
	roundTrip(t, nc, nc, "ws.check")
	cs, err := nc.TLSConnectionState()
	require.NoError(t, err)
	require.Equal(t, leaf(t, m, tlsmgr.RoleWebsocket).Raw, cs.PeerCertificates[0].Raw)
}

// TestMQTT: an MQTT 3.1.1 client over verified TLS publishes, and a NATS
// subscriber gets the message on the mapped subject.
func TestMQTT(t *testing.T) {
	m := newManager(t, newCA(t), tlsmgr.Config{})
	opts := baseOpts()
	opts.JetStream, opts.StoreDir = true, t.TempDir()
	opts.MQTT.Host, opts.MQTT.Port = "127.0.0.1", -1
	startServer(t, opts, m)
	pool := trust(t, m)
	nc := connect(t, clientURL("localhost", opts), &tls.Config{RootCAs: pool})
	sub, err := nc.SubscribeSync("sensors.temp")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())

	cs, err := mqttPublish(net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.MQTT.Port)), &tls.Config{RootCAs: pool}, "sensors/temp", []byte("21.5"))
	require.NoError(t, err)
	require.Equal(t, leaf(t, m, tlsmgr.RoleMQTT).Raw, cs.PeerCertificates[0].Raw)
	msg, err := sub.NextMsg(wait)
	require.NoError(t, err)
	require.Equal(t, "21.5", string(msg.Data))
}

// TestLeafnode: a remote dials the hub over verified TLS both ways (the hub
// verifies the remote's client certificate too); a message crosses.
func TestLeafnode(t *testing.T) {
	ca := newCA(t)
	hubM := newManager(t, ca, tlsmgr.Config{Roles: map[tlsmgr.Role]tlsmgr.RoleConfig{tlsmgr.RoleLeafnode: {VerifyPeers: true}}})
	hubOpts := baseOpts()
	hubOpts.LeafNode.Host, hubOpts.LeafNode.Port = "127.0.0.1", -1
	hub, _ := startServer(t, hubOpts, hubM)

	remoteM := newManager(t, ca, tlsmgr.Config{})
	remoteOpts := baseOpts()
	remoteOpts.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: []*url.URL{{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", hubOpts.LeafNode.Port)}}}}
	remote, _ := startServer(t, remoteOpts, remoteM)

	require.Eventually(t, func() bool { return hub.NumLeafNodes() == 1 && remote.NumLeafNodes() == 1 }, wait, 10*time.Millisecond)
	pool := trust(t, hubM)
	hubNC := connect(t, clientURL("localhost", hubOpts), &tls.Config{RootCAs: pool})
	remoteNC := connect(t, clientURL("localhost", remoteOpts), &tls.Config{RootCAs: pool})
	roundTrip(t, remoteNC, hubNC, "leaf.up")
	roundTrip(t, hubNC, remoteNC, "leaf.down")
}

// TestCluster: three nodes with their own Managers on one CA form routes in
// both directions (each has two peers) and a message crosses.
func TestCluster(t *testing.T) {
	ca := newCA(t)
	var servers []*server.Server
	var conns []*nats.Conn
	var seed string
	for i := range 3 {
		m := newManager(t, ca, tlsmgr.Config{})
		opts := baseOpts()
		opts.ServerName = fmt.Sprintf("n%d", i)
		opts.Cluster.Name, opts.Cluster.Host, opts.Cluster.Port = "C", "127.0.0.1", -1
		if seed != "" {
			opts.Routes = server.RoutesFromStr(seed)
		}
		s, _ := startServer(t, opts, m)
		if seed == "" {
			seed = fmt.Sprintf("nats://127.0.0.1:%d", opts.Cluster.Port)
		}
		servers = append(servers, s)
		conns = append(conns, connect(t, clientURL("localhost", opts), &tls.Config{RootCAs: trust(t, m)}))
	}
	require.Eventually(t, func() bool {
		for _, s := range servers {
			if s.NumRemotes() != 2 || s.NumRoutes() < 2 {
				return false
			}
		}
		return true
	}, wait, 10*time.Millisecond)
	roundTrip(t, conns[1], conns[2], "cluster.cross")
}

// TestGateway: two clusters joined by a gateway have an outbound and an
// inbound gateway connection each, and a message crosses both ways.
func TestGateway(t *testing.T) {
	ca := newCA(t)
	mA, mB := newManager(t, ca, tlsmgr.Config{}), newManager(t, ca, tlsmgr.Config{})
	aOpts := baseOpts()
	aOpts.ServerName, aOpts.Gateway.Name, aOpts.Gateway.Host, aOpts.Gateway.Port = "a", "A", "127.0.0.1", -1
	a, _ := startServer(t, aOpts, mA)

	bOpts := baseOpts()
	bOpts.ServerName, bOpts.Gateway.Name, bOpts.Gateway.Host, bOpts.Gateway.Port = "b", "B", "127.0.0.1", -1
	bOpts.Gateway.Gateways = []*server.RemoteGatewayOpts{{Name: "A", URLs: []*url.URL{{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", aOpts.Gateway.Port)}}}}
	b, _ := startServer(t, bOpts, mB)

	require.Eventually(t, func() bool { return gateways(t, a) == [2]int{1, 1} && gateways(t, b) == [2]int{1, 1} }, wait, 10*time.Millisecond)
	pool := trust(t, mA)
	aNC := connect(t, clientURL("localhost", aOpts), &tls.Config{RootCAs: pool})
	bNC := connect(t, clientURL("localhost", bOpts), &tls.Config{RootCAs: pool})
	roundTrip(t, aNC, bNC, "gw.ab")
	roundTrip(t, bNC, aNC, "gw.ba")
}

// gateways returns a server's outbound and inbound gateway connection
// counts.
func gateways(t *testing.T, s *server.Server) [2]int {
	t.Helper()
	gz, err := s.Gatewayz(nil)
	require.NoError(t, err)
	in := 0
	for _, conns := range gz.InboundGateways {
		in += len(conns)
	}
	return [2]int{len(gz.OutboundGateways), in}
}
