package reload_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestHandshakeBoundedByContext: against a TLS-first port whose server
// completes the handshake and then neither writes nor closes, Handshake
// still returns the served certificate by the end of ctx: waiting for the
// server's close never outlasts ctx.
func TestHandshakeBoundedByContext(t *testing.T) {
	m := newManager(t, newCA(t))
	cfg, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		tc := tls.Server(c, cfg)
		if tc.Handshake() == nil {
			<-release // hold the connection open, silent
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()
	cs, err := reload.Handshake(ctx, ln.Addr().String(), nil, true)
	returned := time.Now()
	require.NoError(t, err)
	require.Equal(t, leaf(t, m, tlsmgr.RoleClient).Raw, cs.PeerCertificates[0].Raw)
	require.False(t, returned.After(deadline.Add(200*time.Millisecond)), "Handshake returned %v after its context ended", returned.Sub(deadline))
}
