package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/internal/testbin"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// The built binary takes a fleet's order lock and is killed with SIGKILL
// in the middle of the order (its dns-01 hook never returns). Another node
// waiting for the lock takes it over within the lease and completes the
// order: the CA finalizes exactly one order, and the bucket holds the
// certificate the other node serves.
func TestFleetLockHolderKilledMidOrder(t *testing.T) {
	const lease = time.Second
	store, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true, JetStream: true, StoreDir: t.TempDir()})
	require.NoError(t, err)
	store.Start()
	t.Cleanup(store.Shutdown)
	require.True(t, store.ReadyForConnections(10*time.Second))
	nc, err := nats.Connect(store.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	// The buckets exist with a 1 s lease, which the binary adopts.
	storage, err := kvstorage.New(t.Context(), js, kvstorage.Config{LockLease: lease})
	require.NoError(t, err)
	t.Cleanup(func() { _ = storage.Close() })

	ca := acmetest.New(t, acmetest.Options{})
	dir := t.TempDir()
	presented, release := filepath.Join(dir, "presented"), filepath.Join(dir, "release")
	hook := filepath.Join(dir, "hook")
	script := fmt.Sprintf("#!/bin/sh\ntouch %q\nwhile [ ! -e %q ]; do sleep 0.05; done\n", presented, release)
	require.NoError(t, os.WriteFile(hook, []byte(script), 0o755))
	t.Cleanup(func() { _ = os.WriteFile(release, nil, 0o600) }) // ends the killed binary's hook

	name := fmt.Sprintf("killed-%d.example.test", time.Now().UnixNano())
	_, bin := parityBinaries(t)
	holder := testbin.Start(t, 60*time.Second, bin, "-a", "127.0.0.1", "-p", strconv.Itoa(freePort(t)),
		"-autotls_storage", t.TempDir(), "-autotls_kv_url", store.ClientURL(), "-autotls_names", name,
		"-autotls_acme", ca.DirectoryURL, "-autotls_agree_tos", "-autotls_acme_roots", writeDirectoryRoots(t, ca),
		"-autotls_dns_hook", hook, "-autotls_dns_resolvers", ca.DNS.Addr())
	waitForFile(t, presented, 60*time.Second)

	// The other node starts while the binary holds the lock mid-order.
	iss, err := acme.New(ca.AcmeConfig(t, storage))
	require.NoError(t, err)
	m, err := tlsmgr.New(tlsmgr.Config{Names: []string{name}, Issuer: iss, Storage: storage})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	started := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		started <- m.Start(ctx)
	}()

	require.NoError(t, holder.Cmd.Process.Kill()) // SIGKILL: no unlock
	killed := time.Now()
	require.NoError(t, <-started)
	t.Logf("the other node served its certificate %v after the holder was killed (lease %v)", time.Since(killed).Round(time.Millisecond), lease)

	require.Len(t, ca.Requests("/finalize-order/"), 1, "one certificate issued")
	served, _, err := m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.Equal(t, []string{name}, served.Leaf.DNSNames)
}

// waitForFile waits until path exists, polling, for at most wait.
func waitForFile(t *testing.T, path string, wait time.Duration) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		require.True(t, time.Now().Before(deadline), "%s not created within %v", path, wait)
		time.Sleep(10 * time.Millisecond)
	}
}

// Two nodes of a fleet order over http-01, but the CA reaches only node
// B's -autotls_http01 address, as behind a load balancer: node A's order
// is validated by B's responder, from the token A wrote to the bucket.
func TestFleetHTTP01AnsweredByAnyNode(t *testing.T) {
	store, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true, JetStream: true, StoreDir: t.TempDir()})
	require.NoError(t, err)
	store.Start()
	t.Cleanup(store.Shutdown)
	require.True(t, store.ReadyForConnections(10*time.Second))
	ca := acmetest.New(t, acmetest.Options{})
	roots := writeDirectoryRoots(t, ca)
	node := func(name, http01 string) *node {
		return startBinary(t, "-a", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-autotls_storage", t.TempDir(),
			"-autotls_kv_url", store.ClientURL(), "-autotls_names", name, "-autotls_acme", ca.DirectoryURL,
			"-autotls_agree_tos", "-autotls_acme_roots", roots, "-autotls_http01", http01)
	}
	stamp := time.Now().UnixNano()
	node(fmt.Sprintf("b-%d.example.test", stamp), "127.0.0.1:"+strconv.Itoa(ca.HTTPPort))
	a := node(fmt.Sprintf("a-%d.example.test", stamp), "127.0.0.1:"+strconv.Itoa(freePort(t)))
	c, _, err := a.manager.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.Equal(t, []string{fmt.Sprintf("a-%d.example.test", stamp)}, c.Leaf.DNSNames, "node A's order was validated through node B")
	require.Len(t, ca.Requests("/finalize-order/"), 2)
}
