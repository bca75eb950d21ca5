package kvstorage_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// gatedCA is a private CA that counts orders and can hold the next one
// until the test releases it.
type gatedCA struct {
	*privateca.CA
	orders  atomic.Int32
	gate    atomic.Pointer[chan struct{}] // nil: issue at once
	entered chan struct{}
}

func (g *gatedCA) Issue(ctx context.Context, key crypto.Signer, names []string, replaces *x509.Certificate) ([][]byte, error) {
	g.orders.Add(1)
	if gate := g.gate.Swap(nil); gate != nil {
		g.entered <- struct{}{}
		select {
		case <-*gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.CA.Issue(ctx, key, names, replaces)
}

// bucketServer is a JetStream server that can be stopped and started
// again on the same port and store.
type bucketServer struct {
	t    *testing.T
	opts server.Options
	srv  *server.Server
}

func newBucketServer(t *testing.T) *bucketServer {
	b := &bucketServer{t: t, opts: server.Options{
		Host: "127.0.0.1", Port: freePort(t), NoSigs: true, NoLog: true, JetStream: true, StoreDir: t.TempDir(),
	}}
	b.start()
	t.Cleanup(func() { b.srv.Shutdown() })
	return b
}

func (b *bucketServer) start() {
	opts := b.opts
	srv, err := server.NewServer(&opts)
	require.NoError(b.t, err)
	srv.Start()
	require.True(b.t, srv.ReadyForConnections(10*time.Second))
	b.srv = srv
}

func (b *bucketServer) stop() {
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
}

// storage opens the bucket, with the nodes' lease, on a connection of
// its own closed at the end of the test.
func (b *bucketServer) storage(t *testing.T) *kvstorage.Storage {
	t.Helper()
	nc, err := nats.Connect(b.url())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	s, err := kvstorage.New(t.Context(), js, kvstorage.Config{LockLease: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func (b *bucketServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(b.opts.Port) }

// cachedNode is one host of the fleet: a Manager on the bucket, through a
// connection that keeps reconnecting, with a local cache directory.
type cachedNode struct {
	m     *tlsmgr.Manager
	addr  string
	cache string
}

func startCachedNode(t *testing.T, b *bucketServer, ca *gatedCA, cache string) *cachedNode {
	t.Helper()
	var private tlsmgr.RootsIssuer // nil: the default private CA, kept in the bucket
	if ca != nil {
		private = ca
	}
	return startNode(t, b, private, cache)
}

func startNode(t *testing.T, b *bucketServer, ca tlsmgr.RootsIssuer, cache string) *cachedNode {
	t.Helper()
	nc, err := nats.Connect(b.url(), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})) // the watch complains during the outage
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	storage, err := kvstorage.New(t.Context(), js, kvstorage.Config{AllowOffline: true, LockLease: time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = storage.Close() })
	m, err := tlsmgr.New(tlsmgr.Config{
		Names: []string{"nats.example.com"}, PrivateCA: ca, Storage: storage,
		Cache: tlsmgr.NewFileStorage(cache), StorageCheckInterval: 200 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, m.Start(ctx))
	cfg, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	return &cachedNode{m: m, addr: listen(t, cfg), cache: cache}
}

// serial is what n's listener serves.
func (n *cachedNode) serial(t *testing.T, roots *x509.CertPool) *big.Int {
	t.Helper()
	s := dialSerial(n.addr, "nats.example.com", roots)
	require.NotNil(t, s, "handshake with %s", n.addr)
	return s
}

// TestBucketOutage stops the bucket's server while a node is in the middle
// of a renewal. Running nodes keep serving; the renewing node gets its
// certificate but cannot store it; a node restarted meanwhile starts from
// its cache; no order is placed while no lock can be taken; once the
// server is back, the new certificate is written back and every node
// serves it within a few seconds.
func TestBucketOutage(t *testing.T) {
	bucket := newBucketServer(t)
	// The first certificate is backdated by an hour, so that the renewal
	// expires later even within the same second.
	var backdate atomic.Int64
	backdate.Store(int64(time.Hour))
	pca, err := privateca.New(privateca.Config{Now: func() time.Time { return time.Now().Add(-time.Duration(backdate.Load())) }})
	require.NoError(t, err)
	ca := &gatedCA{CA: pca, entered: make(chan struct{}, 1)}
	roots := ca.Roots()
	nodes := []*cachedNode{
		startCachedNode(t, bucket, ca, t.TempDir()),
		startCachedNode(t, bucket, ca, t.TempDir()),
		startCachedNode(t, bucket, ca, t.TempDir()),
	}
	first := nodes[0].serial(t, roots)
	for _, n := range nodes {
		require.Equal(t, first, n.serial(t, roots))
	}
	require.Equal(t, int32(1), ca.orders.Load())

	// Node 0 renews; the bucket's server stops while the CA works.
	gate := make(chan struct{})
	ca.gate.Store(&gate)
	backdate.Store(0)
	renewed := make(chan error, 1)
	go func() { renewed <- nodes[0].m.Renew(context.Background(), tlsmgr.RoleClient) }()
	<-ca.entered
	bucket.stop()
	close(gate)
	require.NoError(t, <-renewed, "the renewal is served though it cannot be stored")
	second := nodes[0].serial(t, roots)
	require.NotEqual(t, first, second)
	for _, n := range nodes[1:] {
		require.Equal(t, first, n.serial(t, roots), "running nodes keep serving")
	}

	// Node 2 restarts during the outage: it serves from its cache.
	require.NoError(t, nodes[2].m.Close())
	nodes[2] = startCachedNode(t, bucket, ca, nodes[2].cache)
	require.Equal(t, first, nodes[2].serial(t, roots), "the restarted node serves its cached certificate")

	// No lock, no order.
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	require.Error(t, nodes[1].m.Renew(ctx, tlsmgr.RoleClient))
	cancel()
	require.Equal(t, int32(2), ca.orders.Load(), "no order while the lock cannot be taken")

	// The server returns: node 0 writes its certificate back, the others
	// adopt it.
	waits := make([]<-chan struct{}, 0, 2)
	for _, n := range nodes[1:] {
		_, replaced, err := n.m.Current(tlsmgr.RoleClient)
		require.NoError(t, err)
		waits = append(waits, replaced)
	}
	back := time.Now()
	bucket.start()
	for i, w := range waits {
		select {
		case <-w:
		case <-time.After(10 * time.Second):
			t.Fatalf("node %d did not converge within 10 s of the server's return", i+1)
		}
	}
	t.Logf("every node serves the renewed certificate %v after the server's return", time.Since(back).Round(time.Millisecond))
	for i, n := range nodes {
		require.Equal(t, second, n.serial(t, roots), "node %d", i)
	}
	require.Equal(t, second, storedSerial(t, bucket), "the bucket holds the renewed certificate")
	require.Equal(t, int32(2), ca.orders.Load())
}

// storedSerial reads the one certificate stored in the bucket.
func storedSerial(t *testing.T, b *bucketServer) *big.Int {
	t.Helper()
	s := b.storage(t)
	keys, err := s.List(t.Context(), "certificates", true)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	data, err := s.Load(t.Context(), keys[0])
	require.NoError(t, err)
	var stored struct {
		ChainPEM string `json:"chain_pem"`
	}
	require.NoError(t, json.Unmarshal(data, &stored))
	block, _ := pem.Decode([]byte(stored.ChainPEM))
	require.NotNil(t, block)
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return leaf.SerialNumber
}

// TestBucketLost brings the bucket's server back with an empty store, as
// after losing an R1 bucket's disk: the running nodes write the default
// private CA and their certificate back, and a node started afterwards,
// with no cache, joins the same CA and serves the same certificate.
func TestBucketLost(t *testing.T) {
	bucket := newBucketServer(t)
	nodes := []*cachedNode{startNode(t, bucket, nil, t.TempDir()), startNode(t, bucket, nil, t.TempDir())}
	bundle := nodes[0].m.TrustBundlePEM()
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(bundle))
	want := nodes[0].serial(t, roots)
	require.Equal(t, want, nodes[1].serial(t, roots))

	bucket.stop()
	bucket.opts.StoreDir = t.TempDir()
	bucket.start()
	back := time.Now()
	waitStored(t, bucket, "privateca/ca.json", "certificates")
	t.Logf("the CA and the certificate were written back %v after the server's return", time.Since(back).Round(time.Millisecond))

	fresh := startNode(t, bucket, nil, t.TempDir())
	require.Equal(t, bundle, fresh.m.TrustBundlePEM(), "the CA was written back before the new node needed it")
	require.Equal(t, want, fresh.serial(t, roots), "the certificate was written back and adopted")
	require.Equal(t, want, storedSerial(t, bucket))
}

// waitStored waits until the bucket holds a value under each of keys (a
// key or a "directory"), watching it.
func waitStored(t *testing.T, b *bucketServer, keys ...string) {
	t.Helper()
	s := b.storage(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	changed, err := s.Watch(ctx, "")
	require.NoError(t, err)
	for {
		missing := 0
		for _, k := range keys {
			if _, err := s.Stat(ctx, k); err != nil {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("%d of %v not written back within 10 s", missing, keys)
		}
	}
}

// TestStartWaitsOutAnOutage starts a Manager with no cache while the
// bucket's server is down: Start does not fail, it retries, and returns
// with a certificate once the server is up.
func TestStartWaitsOutAnOutage(t *testing.T) {
	bucket := newBucketServer(t)
	bucket.stop()
	started := make(chan *cachedNode, 1)
	go func() { started <- startNode(t, bucket, nil, t.TempDir()) }()
	select {
	case <-started:
		t.Fatal("Start returned with the bucket down and an empty cache")
	case <-time.After(300 * time.Millisecond): // Start is retrying
	}
	bucket.start()
	select {
	case n := <-started:
		c, _, err := n.m.Current(tlsmgr.RoleClient)
		require.NoError(t, err)
		require.NotNil(t, c.Leaf)
	case <-time.After(15 * time.Second):
		t.Fatal("Start did not finish within 15 s of the server's return")
	}
}
