package natsopts_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestWebsocketTLSALPN01: the websocket listener binds the port the CA
// validates tls-alpn-01 on (443 in production). The Manager answers the
// challenge inside the listener's handshake, with no port 80 and no DNS
// write; a nats.go wss client stays connected through a renewal, which a
// new wss connection then sees.
func TestWebsocketTLSALPN01(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	storage := tlsmgr.NewMemoryStorage()
	cfg := ca.AcmeConfig(t, storage)
	cfg.DNS01 = nil
	cfg.TLSALPN01 = &acme.TLSALPN01{}
	iss, err := acme.New(cfg)
	require.NoError(t, err)

	name := fmt.Sprintf("alpn-%d.example.test", time.Now().UnixNano())
	installed := make(chan struct{}, 16)
	m := newManager(t, newCA(t), tlsmgr.Config{
		Names: []string{name}, Issuer: iss, Storage: storage, StartInBackground: true,
		OnEvent: func(ev tlsmgr.Event) {
			if ev.Type == tlsmgr.EventInstalled && slices.Contains(ev.Roles, tlsmgr.RoleWebsocket) {
				installed <- struct{}{}
			}
		},
	})
	opts := baseOpts()
	opts.Websocket.Host, opts.Websocket.Port = "127.0.0.1", ca.TLSPort
	startServer(t, opts, m)
	waitInstalled := func() {
		t.Helper()
		select {
		case <-installed:
		case <-time.After(wait):
			t.Fatal("no certificate installed on the websocket role")
		}
	}
	waitInstalled() // the first order was validated on the websocket port
	appends, _ := ca.DNS.Provider().Calls()
	require.Zero(t, appends, "no DNS record written")

	wsURL := fmt.Sprintf("wss://127.0.0.1:%d", ca.TLSPort)
	var disconnects atomic.Int32
	nc := connect(t, wsURL, &tls.Config{RootCAs: ca.Roots(t), ServerName: name},
		nats.DisconnectErrHandler(func(*nats.Conn, error) { disconnects.Add(1) }))
	first := peerLeaf(t, nc)
	require.Equal(t, []string{name}, first.DNSNames)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, m.Renew(ctx, tlsmgr.RoleWebsocket))
	require.Equal(t, 2, ca.Orders())

	fresh := connect(t, wsURL, &tls.Config{RootCAs: ca.Roots(t), ServerName: name})
	second := peerLeaf(t, fresh)
	require.NotEqual(t, first.SerialNumber, second.SerialNumber, "a new connection sees the renewed certificate")
	roundTrip(t, nc, fresh, "alpn.check")
	require.Equal(t, first.SerialNumber, peerLeaf(t, nc).SerialNumber, "the first client kept its connection")
	require.Zero(t, disconnects.Load())
	require.Zero(t, nc.Stats().Reconnects)
}

// peerLeaf returns the certificate nc's server presented.
func peerLeaf(t *testing.T, nc *nats.Conn) *x509.Certificate {
	t.Helper()
	cs, err := nc.TLSConnectionState()
	require.NoError(t, err)
	return cs.PeerCertificates[0]
}
