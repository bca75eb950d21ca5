package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// Two nodes with no CA files and no shared disk form a mutual-TLS cluster:
// they share the private CA and their certificates through a JetStream
// key-value bucket on another NATS system, and the second node orders
// nothing.
func TestFleetSharesStorageOverNATS(t *testing.T) {
	store, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true, JetStream: true, StoreDir: t.TempDir()})
	require.NoError(t, err)
	store.Start()
	t.Cleanup(store.Shutdown)
	require.True(t, store.ReadyForConnections(10*time.Second))

	portA, portB := freePort(t), freePort(t)
	common := []string{"-a", "127.0.0.1", "-autotls_kv_url", store.ClientURL(), "-cluster_name", "C"}
	a := startBinary(t, append([]string{"-p", strconv.Itoa(freePort(t)), "-autotls_storage", t.TempDir(),
		"-cluster", "nats://127.0.0.1:" + strconv.Itoa(portA)}, common...)...)
	b := startBinary(t, append([]string{"-p", strconv.Itoa(freePort(t)), "-autotls_storage", t.TempDir(),
		"-cluster", "nats://127.0.0.1:" + strconv.Itoa(portB), "-routes", "nats://127.0.0.1:" + strconv.Itoa(portA)}, common...)...)

	require.Equal(t, a.manager.TrustBundlePEM(), b.manager.TrustBundlePEM(), "one private CA for the fleet")
	for _, role := range []tlsmgr.Role{tlsmgr.RoleClient, tlsmgr.RoleCluster} {
		ca, _, err := a.manager.Current(role)
		require.NoError(t, err)
		cb, _, err := b.manager.Current(role)
		require.NoError(t, err)
		require.Equal(t, ca.Leaf.SerialNumber, cb.Leaf.SerialNumber, "%s: B serves the certificate A stored", role)
	}
	require.Eventually(t, func() bool { return a.server.NumRemotes() == 1 && b.server.NumRemotes() == 1 },
		20*time.Second, 10*time.Millisecond, "the route between the nodes forms over mutual TLS")
}

// A node of a fleet restarts while the bucket's NATS system is down: it
// does not exit, it starts from the certificates and CA cached in its
// -autotls_storage directory and serves them to NATS clients.
func TestFleetNodeStartsFromItsCacheWhileTheBucketIsDown(t *testing.T) {
	store, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true, JetStream: true, StoreDir: t.TempDir()})
	require.NoError(t, err)
	store.Start()
	t.Cleanup(store.Shutdown)
	require.True(t, store.ReadyForConnections(10*time.Second))

	port := freePort(t)
	args := []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port), "-autotls_kv_url", store.ClientURL(), "-autotls_storage", t.TempDir()}
	ctx, cancel := context.WithCancel(t.Context())
	ready, done := make(chan *node, 1), make(chan error, 1)
	go func() { done <- run(ctx, args, io.Discard, ready) }()
	var first *node
	select {
	case first = <-ready:
	case err := <-done:
		t.Fatalf("nats-autotls exited: %v", err)
	}
	want, _, err := first.manager.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	cancel()
	require.NoError(t, <-done)

	store.Shutdown()
	store.WaitForShutdown()
	second := startBinary(t, args...)
	got, _, err := second.manager.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.Equal(t, want.Leaf.SerialNumber, got.Leaf.SerialNumber, "served from the cache")

	nc, err := nats.Connect(fmt.Sprintf("tls://127.0.0.1:%d", port), nats.Secure(&tls.Config{InsecureSkipVerify: true})) //nolint:gosec // the serial is checked
	require.NoError(t, err)
	defer nc.Close()
	cs, err := nc.TLSConnectionState()
	require.NoError(t, err)
	require.Equal(t, want.Leaf.SerialNumber, cs.PeerCertificates[0].SerialNumber, "a NATS client gets the cached certificate")
}
