package kvstorage_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// startCluster runs n embedded nats-servers with JetStream as one cluster
// on loopback, and waits until it can create replicated streams.
func startCluster(t *testing.T, n int) []*server.Server {
	t.Helper()
	ports := make([]int, n)
	var routes []string
	for i := range ports {
		ports[i] = freePort(t)
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	servers := make([]*server.Server, n)
	for i := range servers {
		srv, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true,
			JetStream: true, StoreDir: t.TempDir(),
			Cluster: server.ClusterOpts{Name: "C", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		})
		require.NoError(t, err)
		srv.Start()
		t.Cleanup(srv.Shutdown)
		servers[i] = srv
	}
	for _, srv := range servers {
		require.True(t, srv.ReadyForConnections(20*time.Second), "nats-server not ready")
	}
	_, js := connect(t, servers[0])
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.CreateStream(actx, jetstream.StreamConfig{Name: "PROBE", Replicas: n, Subjects: []string{"probe"}})
		acancel()
		if err == nil {
			require.NoError(t, js.DeleteStream(ctx, "PROBE"))
			return servers
		}
		select {
		case <-ctx.Done():
			t.Fatalf("JetStream cluster not ready: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// newACME returns a CA and a function making an Issuer on it that keeps
// its account in storage.
func newACME(t *testing.T) (*acmetest.CA, func(storage tlsmgr.Storage) *acme.Issuer) {
	ca := acmetest.New(t, acmetest.Options{})
	return ca, func(storage tlsmgr.Storage) *acme.Issuer {
		iss, err := acme.New(ca.AcmeConfig(t, storage))
		require.NoError(t, err)
		return iss
	}
}

// uniqueName returns a DNS name unique to the test: the harness's DNS
// server is shared by the whole test binary.
func uniqueName(t *testing.T) string {
	return fmt.Sprintf("%s-%d.example.test", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())
}

// handshakeSerial makes a real TLS handshake with cfg over an in-memory
// connection and returns the serial of the certificate served, or nil if
// the handshake failed.
func handshakeSerial(cfg *tls.Config, name string) *big.Int {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	_ = a.SetDeadline(time.Now().Add(5 * time.Second))
	_ = b.SetDeadline(time.Now().Add(5 * time.Second))
	go func() { _ = tls.Server(a, cfg).Handshake() }()
	c := tls.Client(b, &tls.Config{ServerName: name, InsecureSkipVerify: true}) //nolint:gosec // the serial is all we read
	if err := c.Handshake(); err != nil {
		return nil
	}
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

// listen serves handshakes with cfg on a loopback listener until the test
// ends and returns its address.
func listen(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_ = c.(*tls.Conn).Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

// dialSerial makes a TLS handshake with addr and returns the serial it
// served, verified against roots, or nil.
func dialSerial(addr, name string, roots *x509.CertPool) *big.Int {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 2 * time.Second}, Config: &tls.Config{ServerName: name, RootCAs: roots}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber
}

// freePort returns a loopback TCP port free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// itoa formats a port.
func itoa(n int) string { return strconv.Itoa(n) }
