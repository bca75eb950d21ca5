package natsopts_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// rotations is how many times every certificate is renewed under load.
const rotations = 20

// node is one server of the rotation test with its Manager and logs.
type node struct {
	name string
	m    *tlsmgr.Manager
	s    *server.Server
	opts *server.Options
	logs *logLines
}

// TestRotationUnderLoad renews every certificate of a cluster of two nodes
// (A, B), a leafnode (L) attached to A and a gateway cluster (G) 20 times
// while a publisher on B sends to subscribers on A, L and G, new client and
// websocket connections to A open all the time, and new MQTT connections to
// L each publish a message that a NATS subscriber on L must receive. Nothing may fail: no
// connection error, no TLS error in any server log, no lost message, no
// dropped connection (client, route, leafnode and gateway connection ids are
// the same before and after), and after each round a fresh handshake on
// each of A's ports gets the new certificate.
func TestRotationUnderLoad(t *testing.T) {
	ca := newCA(t)
	nodes := startRotationNodes(t, ca)
	a, b, l, g := nodes[0], nodes[1], nodes[2], nodes[3]
	pool := trust(t, a.m)
	cfg := &tls.Config{RootCAs: pool}

	var dropped atomic.Int64
	watch := []nats.Option{
		nats.DisconnectErrHandler(func(*nats.Conn, error) { dropped.Add(1) }),
		nats.ReconnectHandler(func(*nats.Conn) { dropped.Add(1) }),
	}
	pub := connect(t, clientURL("localhost", b.opts), cfg, watch...)
	subs := map[string]*nats.Conn{"B": pub}
	counts := map[string]*counter{}
	for _, n := range []*node{a, l, g} {
		nc := connect(t, clientURL("localhost", n.opts), cfg, watch...)
		subs[n.name], counts[n.name] = nc, subscribeCounter(t, nc, "load")
	}
	warmUp(t, pub, counts)
	mqttGot := subscribeCounter(t, subs["L"], "load.mqtt")
	before := connIDs(t, nodes, subs)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var sent, opened, mqttSent atomic.Int64
	errs := make(chan error, 100)
	wg.Go(func() { errs <- publish(pub, stop, &sent) })
	wg.Go(func() { errs <- churn(a, cfg, stop, &opened) })
	wg.Go(func() { errs <- mqttChurn(l, cfg, stop, &mqttSent) })

	start := time.Now()
	for round := range rotations {
		for _, n := range nodes {
			for _, r := range []tlsmgr.Role{tlsmgr.RoleClient, tlsmgr.RoleCluster} {
				require.NoError(t, n.m.Renew(ctx, r), "round %d %s %s", round, n.name, r)
			}
		}
		checkServed(ctx, t, a, b, l, g)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	elapsed := time.Since(start)
	require.NoError(t, pub.Flush())
	for name, c := range counts {
		require.Eventually(t, func() bool { return c.n.Load() >= sent.Load() }, wait, 5*time.Millisecond, "subscriber on %s", name)
		require.Equal(t, sent.Load(), c.n.Load(), "subscriber on %s: lost or duplicated messages", name)
	}
	require.Eventually(t, func() bool { return mqttGot.n.Load() >= mqttSent.Load() }, wait, 5*time.Millisecond, "MQTT messages on L")
	require.Equal(t, mqttSent.Load(), mqttGot.n.Load(), "MQTT messages lost or duplicated")
	require.Zero(t, dropped.Load(), "a long-lived client disconnected or reconnected")
	require.Equal(t, before, connIDs(t, nodes, subs), "a connection was replaced")
	for _, n := range nodes {
		require.Empty(t, n.logs.find("TLS", "error"), "TLS errors in %s's log", n.name)
		require.Empty(t, n.logs.find("handshake error"), "handshake errors in %s's log", n.name)
	}
	t.Logf("rotation under load: %d rounds (%d renewals over 4 Managers) in %v; %d new client/websocket connections and %d new MQTT connections; %d messages to each of %d subscribers; connections kept: %v",
		rotations, rotations*len(nodes)*2, elapsed.Round(time.Millisecond), opened.Load(), mqttSent.Load(), sent.Load(), len(counts), before)
}

// startRotationNodes starts A (client, websocket, cluster, leafnode,
// gateway), B (routes to A), L (leafnode remote of A, MQTT with JetStream)
// and G (gateway to A).
func startRotationNodes(t *testing.T, ca *privateca.CA) []*node {
	t.Helper()
	mk := func(name string, edit func(*server.Options)) *node {
		n := &node{name: name, m: newManager(t, ca, tlsmgr.Config{}), opts: baseOpts()}
		n.opts.ServerName = name
		n.opts.Accounts, n.opts.SystemAccount = []*server.Account{server.NewAccount("SYS")}, "SYS"
		edit(n.opts)
		n.s, n.logs = startServer(t, n.opts, n.m)
		return n
	}
	a := mk("A", func(o *server.Options) {
		o.Websocket.Host, o.Websocket.Port = "127.0.0.1", -1
		o.Cluster.Name, o.Cluster.Host, o.Cluster.Port = "A", "127.0.0.1", -1
		o.LeafNode.Host, o.LeafNode.Port = "127.0.0.1", -1
		o.Gateway.Name, o.Gateway.Host, o.Gateway.Port = "A", "127.0.0.1", -1
	})
	loop := func(port int) *url.URL {
		return &url.URL{Scheme: "nats", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	}
	b := mk("B", func(o *server.Options) {
		o.Cluster.Name, o.Cluster.Host, o.Cluster.Port = "A", "127.0.0.1", -1
		o.Routes = []*url.URL{loop(a.opts.Cluster.Port)}
		o.Gateway.Name, o.Gateway.Host, o.Gateway.Port = "A", "127.0.0.1", -1
	})
	l := mk("L", func(o *server.Options) {
		o.JetStream, o.StoreDir = true, t.TempDir() // MQTT needs JetStream
		o.MQTT.Host, o.MQTT.Port = "127.0.0.1", -1
		o.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: []*url.URL{loop(a.opts.LeafNode.Port)}}}
	})
	g := mk("G", func(o *server.Options) {
		o.Gateway.Name, o.Gateway.Host, o.Gateway.Port = "G", "127.0.0.1", -1
		o.Gateway.Gateways = []*server.RemoteGatewayOpts{{Name: "A", URLs: []*url.URL{loop(a.opts.Gateway.Port)}}}
	})
	require.Eventually(t, func() bool {
		return a.s.NumRemotes() == 1 && b.s.NumRemotes() == 1 && a.s.NumLeafNodes() == 1 &&
			gateways(t, g.s) == [2]int{1, 2} && gateways(t, a.s) == [2]int{1, 1} && gateways(t, b.s) == [2]int{1, 0}
	}, wait, 10*time.Millisecond, "G, A, B gateways (out, in): %v %v %v", gateways(t, g.s), gateways(t, a.s), gateways(t, b.s))
	return []*node{a, b, l, g}
}

// counter counts the messages a subscriber got, warm-up messages apart.
type counter struct{ n, warm atomic.Int64 }

// subscribeCounter subscribes nc to subject and counts what arrives.
func subscribeCounter(t *testing.T, nc *nats.Conn, subject string) *counter {
	t.Helper()
	c := &counter{}
	_, err := nc.Subscribe(subject, func(m *nats.Msg) {
		if string(m.Data) == "warm" {
			c.warm.Add(1)
			return
		}
		c.n.Add(1)
	})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	return c
}

// warmUp publishes warm-up messages until every subscriber got one, so that
// interest has reached the publisher's server through every path.
func warmUp(t *testing.T, pub *nats.Conn, counts map[string]*counter) {
	t.Helper()
	require.Eventually(t, func() bool {
		require.NoError(t, pub.Publish("load", []byte("warm")))
		require.NoError(t, pub.Flush())
		for _, c := range counts {
			if c.warm.Load() == 0 {
				return false
			}
		}
		return true
	}, wait, 10*time.Millisecond)
}

// publish sends numbered messages until stop, flushing every ten, and
// counts them in sent.
func publish(pub *nats.Conn, stop <-chan struct{}, sent *atomic.Int64) error {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return pub.FlushTimeout(wait)
		default:
		}
		if err := pub.Publish("load", []byte(strconv.Itoa(i))); err != nil {
			return fmt.Errorf("publish %d: %w", i, err)
		}
		sent.Add(1)
		if i%10 == 9 {
			if err := pub.FlushTimeout(wait); err != nil {
				return fmt.Errorf("flush after %d: %w", i, err)
			}
		}
	}
}

// churn opens verified client and websocket connections to n until stop,
// alternately, and counts them in opened. Any failure is returned.
func churn(n *node, cfg *tls.Config, stop <-chan struct{}, opened *atomic.Int64) error {
	urls := []string{clientURL("localhost", n.opts), fmt.Sprintf("wss://localhost:%d", n.opts.Websocket.Port)}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		nc, err := nats.Connect(urls[i%2], nats.Secure(cfg), nats.Timeout(wait), nats.NoReconnect())
		if err != nil {
			return fmt.Errorf("new connection %d to %s: %w", i, urls[i%2], err)
		}
		err = nc.Flush()
		nc.Close()
		if err != nil {
			return fmt.Errorf("new connection %d to %s: flush: %w", i, urls[i%2], err)
		}
		opened.Add(1)
	}
}

// mqttChurn opens a verified MQTT connection to n and publishes one message
// on "load/mqtt" until stop, counting them in sent.
func mqttChurn(n *node, cfg *tls.Config, stop <-chan struct{}, sent *atomic.Int64) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(n.opts.MQTT.Port))
	mcfg := cfg.Clone()
	mcfg.ServerName = "localhost"
	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		if _, err := mqttPublish(addr, mcfg, "load/mqtt", []byte(strconv.Itoa(i))); err != nil {
			return fmt.Errorf("mqtt connection %d: %w", i, err)
		}
		sent.Add(1)
	}
}

// checkServed handshakes afresh with each of A's ports and requires the
// certificate A's Manager serves now. Probes of mutual-TLS ports present
// the peer node's certificate, as a real peer would.
func checkServed(ctx context.Context, t *testing.T, a, b, l, g *node) {
	t.Helper()
	clientCert := func(n *node, r tlsmgr.Role) *tls.Config {
		c, err := n.m.TLSConfig(r)
		require.NoError(t, err)
		return &tls.Config{InsecureSkipVerify: true, GetClientCertificate: c.GetClientCertificate} // the leaf is compared below
	}
	hostPort := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
	for _, p := range []struct {
		role     tlsmgr.Role
		n        *node
		addr     string
		cfg      *tls.Config
		tlsFirst bool
	}{
		{tlsmgr.RoleClient, a, hostPort(a.opts.Port), &tls.Config{RootCAs: trust(t, a.m), ServerName: "localhost"}, false},
		{tlsmgr.RoleWebsocket, a, hostPort(a.opts.Websocket.Port), &tls.Config{RootCAs: trust(t, a.m), ServerName: "localhost"}, true},
		{tlsmgr.RoleCluster, a, hostPort(a.opts.Cluster.Port), clientCert(b, tlsmgr.RoleCluster), true},
		{tlsmgr.RoleLeafnode, a, hostPort(a.opts.LeafNode.Port), clientCert(l, tlsmgr.RoleLeafnodeRemote), false},
		{tlsmgr.RoleGateway, a, hostPort(a.opts.Gateway.Port), clientCert(g, tlsmgr.RoleGateway), true},
		{tlsmgr.RoleMQTT, l, hostPort(l.opts.MQTT.Port), &tls.Config{RootCAs: trust(t, l.m), ServerName: "localhost"}, true},
	} {
		cs, err := reload.Handshake(ctx, p.addr, p.cfg, p.tlsFirst)
		require.NoError(t, err, p.role)
		require.Equal(t, leaf(t, p.n.m, p.role).SerialNumber, cs.PeerCertificates[0].SerialNumber, "%s port of %s serves an old certificate", p.role, p.n.name)
	}
}

// connIDs lists the ids of every long-lived connection: the test's clients
// (as the server numbered them) and each server's routes, leafnodes and
// gateways.
func connIDs(t *testing.T, nodes []*node, clients map[string]*nats.Conn) map[string][]uint64 {
	t.Helper()
	ids := map[string][]uint64{}
	for name, nc := range clients {
		id, err := nc.GetClientID()
		require.NoError(t, err)
		ids["client@"+name] = []uint64{id}
	}
	for _, n := range nodes {
		rz, err := n.s.Routez(nil)
		require.NoError(t, err)
		for _, r := range rz.Routes {
			ids["routes@"+n.name] = append(ids["routes@"+n.name], r.Rid)
		}
		lz, err := n.s.Leafz(nil)
		require.NoError(t, err)
		for _, lf := range lz.Leafs {
			ids["leafs@"+n.name] = append(ids["leafs@"+n.name], lf.ID)
		}
		gz, err := n.s.Gatewayz(nil)
		require.NoError(t, err)
		for _, o := range gz.OutboundGateways {
			ids["gw-out@"+n.name] = append(ids["gw-out@"+n.name], o.Connection.Cid)
		}
		for _, in := range gz.InboundGateways {
			for _, c := range in {
				ids["gw-in@"+n.name] = append(ids["gw-in@"+n.name], c.Connection.Cid)
			}
		}
	}
	for k := range ids {
		slices.Sort(ids[k])
	}
	return ids
}
