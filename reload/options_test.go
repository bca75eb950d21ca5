package reload_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/natsopts"
	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// startServer applies m to opts and runs a server on them.
func startServer(t *testing.T, opts *server.Options, m *tlsmgr.Manager) *server.Server {
	t.Helper()
	require.NoError(t, natsopts.Apply(opts, m))
	s, err := server.NewServer(opts)
	require.NoError(t, err)
	s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	require.True(t, s.ReadyForConnections(wait))
	return s
}

// TestOptionsAddsLeafnodeRemote: at runtime, reload.Options adds a leafnode
// remote and changes a non-TLS option; the remote connects to its hub over
// managed TLS, the existing client keeps its connection (same id, no
// disconnect), and the client port still serves the Manager's certificate.
func TestOptionsAddsLeafnodeRemote(t *testing.T) {
	ca := newCA(t)
	hubM, m := newManager(t, ca), newManager(t, ca)
	hubOpts := &server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true}
	hubOpts.LeafNode.Host, hubOpts.LeafNode.Port = "127.0.0.1", -1
	hub := startServer(t, hubOpts, hubM)

	opts := &server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true}
	s := startServer(t, opts, m)
	var dropped atomic.Int64
	nc, err := nats.Connect(fmt.Sprintf("tls://localhost:%d", opts.Port), nats.Secure(&tls.Config{RootCAs: pool(t, m)}),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { dropped.Add(1) }))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	cid, err := nc.GetClientID()
	require.NoError(t, err)

	newOpts := opts.Clone()
	newOpts.MaxPayload = 512 * 1024
	newOpts.LeafNode.Remotes = []*server.RemoteLeafOpts{{URLs: []*url.URL{{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", hubOpts.LeafNode.Port)}}}}
	require.NoError(t, reload.Options(context.Background(), s, newOpts, m))

	require.Eventually(t, func() bool { return hub.NumLeafNodes() == 1 && s.NumLeafNodes() == 1 }, wait, 10*time.Millisecond)
	require.NoError(t, nc.Flush())
	got, err := nc.GetClientID()
	require.NoError(t, err)
	require.Equal(t, cid, got)
	require.Zero(t, dropped.Load())
	vz, err := s.Varz(nil)
	require.NoError(t, err)
	require.Equal(t, 512*1024, vz.MaxPayload)

	cs, err := reload.Handshake(context.Background(), fmt.Sprintf("127.0.0.1:%d", opts.Port), &tls.Config{RootCAs: pool(t, m), ServerName: "localhost"}, false)
	require.NoError(t, err)
	require.Equal(t, leaf(t, m, tlsmgr.RoleClient).Raw, cs.PeerCertificates[0].Raw)
}
