package kvstorage_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/kvstorage"
)

// TestHTTP01AnsweredByAnotherNode puts two nodes behind one address that
// reaches only node B, and has node A order a certificate over http-01:
// A writes the challenge token to the bucket, B's responder answers the CA
// from the bucket, and validation succeeds. A listens on nothing.
func TestHTTP01AnsweredByAnotherNode(t *testing.T) {
	srv := startServer(t)
	ca := acmetest.New(t, acmetest.Options{})
	storageA, _ := newStorage(t, srv, kvstorage.Config{})
	storageB, _ := newStorage(t, srv, kvstorage.Config{})

	// The one address the CA reaches: node B's port 80.
	var answered atomic.Int32
	responder := acme.HTTP01Responder(storageB, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(ca.HTTPPort))
	require.NoError(t, err)
	hs := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answered.Add(1)
		responder.ServeHTTP(w, r)
	})}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })

	cfg := ca.AcmeConfig(t, storageA)
	cfg.DNS01 = nil
	cfg.HTTP01 = &acme.HTTP01{Storage: storageA}
	iss, err := acme.New(cfg)
	require.NoError(t, err)
	name := uniqueName(t)
	m, err := tlsmgr.New(tlsmgr.Config{Names: []string{name}, Issuer: iss, Storage: storageA})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, m.Start(ctx))

	c, _, err := m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.Equal(t, []string{name}, c.Leaf.DNSNames)
	require.Positive(t, answered.Load(), "node B answered the CA")
	_, err = storageB.List(t.Context(), "acme/http-01", false)
	require.True(t, errors.Is(err, fs.ErrNotExist), "the token is cleaned up: %v", err)
}
