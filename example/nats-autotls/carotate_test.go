package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/certutil"
	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/privateca"
)

// A two-node cluster rotates its shared CA in the three documented SIGHUP
// steps: the route between the nodes stays up throughout, each step's new
// handshakes succeed, every node ends on the new CA, and a peer still on
// the old CA is refused at the end.
func TestClusterCARotationOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	caFile, keyFile, trustFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key"), filepath.Join(dir, "trust.pem")
	old, cur := newCAFiles(t), newCAFiles(t)
	oldCert, oldKey, newCert, newKey := old.cert, old.key, cur.cert, cur.key
	write := func(cert, key, trust []byte) {
		t.Helper()
		require.NoError(t, os.WriteFile(caFile, cert, 0o644))
		require.NoError(t, os.WriteFile(keyFile, key, 0o600))
		require.NoError(t, os.WriteFile(trustFile, trust, 0o644))
	}
	write(oldCert, oldKey, nil)

	portA, portB := freePort(t), freePort(t)
	common := []string{"-a", "127.0.0.1", "-autotls_ca_cert", caFile, "-autotls_ca_key", keyFile, "-autotls_ca_trust", trustFile, "-cluster_name", "C"}
	a := startBinary(t, append([]string{"-p", strconv.Itoa(freePort(t)), "-autotls_storage", t.TempDir(),
		"-cluster", "nats://127.0.0.1:" + strconv.Itoa(portA)}, common...)...)
	b := startBinary(t, append([]string{"-p", strconv.Itoa(freePort(t)), "-autotls_storage", t.TempDir(),
		"-cluster", "nats://127.0.0.1:" + strconv.Itoa(portB), "-routes", "nats://127.0.0.1:" + strconv.Itoa(portA)}, common...)...)
	// One peer each, over the default pool of route connections (3, plus
	// one for the system account).
	require.Eventually(t, func() bool {
		return a.server.NumRemotes() == 1 && b.server.NumRemotes() == 1 && a.server.NumRoutes() == 4 && b.server.NumRoutes() == 4
	}, 20*time.Second, 10*time.Millisecond)
	routes := routeIDs(t, a, b)

	steps := []struct {
		name             string
		cert, key, trust []byte
		signer           []byte
		trusted          [][]byte
		refused          []caPair
	}{
		{"trust the new CA", oldCert, oldKey, newCert, oldCert, [][]byte{oldCert, newCert}, nil},
		{"sign with the new CA", newCert, newKey, oldCert, newCert, [][]byte{oldCert, newCert}, nil},
		{"drop the old CA", newCert, newKey, nil, newCert, [][]byte{newCert}, []caPair{old}},
	}
	for _, st := range steps {
		write(st.cert, st.key, st.trust)
		for _, n := range []*node{a, b} {
			require.NoError(t, n.reload(context.Background(), slog.New(slog.DiscardHandler)), st.name)
		}
		for _, n := range []*node{a, b} {
			requireChainsTo(t, n, st.signer, st.name)
			requireBundle(t, n, st.trusted, st.name)
		}
		// A fresh route handshake, as a reconnecting peer would make it.
		probeCluster(t, b, portA, nil, st.name)
		for _, ca := range st.refused {
			probeCluster(t, b, portA, &ca, st.name)
		}
		require.Equal(t, routes, routeIDs(t, a, b), "%s: the route was replaced", st.name)
	}
}

// caPair is a CA's certificate and key, PEM.
type caPair struct{ cert, key []byte }

// newCAFiles makes a CA.
func newCAFiles(t *testing.T) caPair {
	t.Helper()
	certPEM, keyPEM, err := privateca.Generate("rotation test CA", 24*time.Hour)
	require.NoError(t, err)
	return caPair{certPEM, keyPEM}
}

// requireChainsTo checks that n's cluster certificate is signed by caPEM.
func requireChainsTo(t *testing.T, n *node, caPEM []byte, step string) {
	t.Helper()
	cert, _, err := n.manager.Current(tlsmgr.RoleCluster)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(caPEM))
	_, err = cert.Leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err, "%s: cluster certificate not from the expected CA", step)
}

// requireBundle checks the bundle file clients read holds exactly want.
func requireBundle(t *testing.T, n *node, want [][]byte, step string) {
	t.Helper()
	got, err := os.ReadFile(n.bundlePath)
	require.NoError(t, err)
	gotDER, err := certutil.DecodeChain(got)
	require.NoError(t, err)
	var wantDER [][]byte
	for _, p := range want {
		der, err := certutil.DecodeChain(p)
		require.NoError(t, err)
		wantDER = append(wantDER, der...)
	}
	require.ElementsMatch(t, wantDER, gotDER, "%s: trust bundle file", step)
}

// probeCluster makes a new TLS connection to the cluster port presenting
// from's cluster certificate, or, with a non-nil signer, a certificate from
// that CA, which must then be refused.
func probeCluster(t *testing.T, from *node, port int, signer *caPair, step string) {
	t.Helper()
	cfg := &tls.Config{InsecureSkipVerify: true} // the server side is what is probed
	if signer == nil {
		managed, err := from.manager.TLSConfig(tlsmgr.RoleCluster)
		require.NoError(t, err)
		cfg.GetClientCertificate = managed.GetClientCertificate
	} else {
		cert := leafFrom(t, *signer)
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	// TLS 1.3 clients finish the handshake before the server has checked
	// their certificate: read the route's INFO to see the server's verdict.
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cfg)
	if err == nil {
		defer conn.Close()
		require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
		_, err = conn.Read(make([]byte, 4))
	}
	if signer == nil {
		require.NoError(t, err, "%s: a peer with a current certificate is refused", step)
		return
	}
	require.Error(t, err, "%s: a peer of a dropped CA is accepted", step)
	require.NotErrorIs(t, err, os.ErrDeadlineExceeded, "%s: no verdict from the server", step)
}

// leafFrom issues a cluster-style leaf from ca.
func leafFrom(t *testing.T, pair caPair) *tls.Certificate {
	t.Helper()
	ca, err := privateca.New(privateca.Config{CertPEM: pair.cert, KeyPEM: pair.key})
	require.NoError(t, err)
	key, err := certutil.GenerateKey(certutil.P256)
	require.NoError(t, err)
	chain, err := ca.Issue(context.Background(), key, []string{"localhost", "127.0.0.1"}, nil)
	require.NoError(t, err)
	cert, err := certutil.TLSCertificate(chain, key)
	require.NoError(t, err)
	return cert
}

// routeIDs lists the route connection ids of the nodes.
func routeIDs(t *testing.T, nodes ...*node) []uint64 {
	t.Helper()
	var ids []uint64
	for _, n := range nodes {
		rz, err := n.server.Routez(&server.RoutezOptions{})
		require.NoError(t, err)
		for _, r := range rz.Routes {
			ids = append(ids, r.Rid)
		}
	}
	return ids
}
