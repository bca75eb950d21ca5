package kvstorage_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// startServer runs an embedded nats-server with JetStream on a loopback
// port, shut down when the test ends.
func startServer(t testing.TB) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true,
		JetStream: true, StoreDir: t.TempDir(),
	})
	require.NoError(t, err)
	srv.Start()
	t.Cleanup(srv.Shutdown)
	require.True(t, srv.ReadyForConnections(10*time.Second), "nats-server not ready")
	return srv
}

// connect opens a NATS connection to srv, closed when the test ends.
func connect(t testing.TB, srv *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return nc, js
}

// newStorage opens a Storage on its own connection to srv, closed when the
// test ends.
func newStorage(t testing.TB, srv *server.Server, cfg kvstorage.Config) (*kvstorage.Storage, *nats.Conn) {
	t.Helper()
	nc, js := connect(t, srv)
	s, err := kvstorage.New(t.Context(), js, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, nc
}
