package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/reload"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startBinary runs the reference binary in-process with args, as the README's
// first command does, and returns once it accepts connections.
func startBinary(t *testing.T, args ...string) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *node, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, io.Discard, ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("nats-autotls did not stop within 30s")
		}
	})
	select {
	case n := <-ready:
		return n
	case err := <-done:
		t.Fatalf("nats-autotls exited: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("nats-autotls not ready within 60s")
	}
	return nil
}

func TestDefaultRunServesVerifiedTLS(t *testing.T) {
	dir := t.TempDir()
	port, httpsPort := freePort(t), freePort(t)
	startBinary(t, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-ms", strconv.Itoa(httpsPort), "-autotls_storage", dir)

	bundle := filepath.Join(dir, "ca-bundle.pem")
	pem, err := os.ReadFile(bundle)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(pem), "bundle at %s holds no certificate", bundle)

	for _, host := range []string{"localhost", "127.0.0.1"} {
		t.Run("nats "+host, func(t *testing.T) {
			var leaf *x509.Certificate
			nc, err := nats.Connect(fmt.Sprintf("tls://%s:%d", host, port), nats.Secure(&tls.Config{
				RootCAs: roots,
				VerifyConnection: func(cs tls.ConnectionState) error {
					leaf = cs.PeerCertificates[0]
					return nil
				},
			}), nats.Timeout(10*time.Second))
			require.NoError(t, err)
			defer nc.Close()
			sub, err := nc.SubscribeSync("demo")
			require.NoError(t, err)
			require.NoError(t, nc.Publish("demo", []byte("hi")))
			msg, err := sub.NextMsg(10 * time.Second)
			require.NoError(t, err)
			require.Equal(t, "hi", string(msg.Data))
			require.NoError(t, leaf.VerifyHostname(host))
		})
	}

	t.Run("https monitoring", func(t *testing.T) {
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		resp, err := hc.Get(fmt.Sprintf("https://localhost:%d/varz", httpsPort))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})

	info, err := os.Stat(bundle)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), info.Mode().Perm(), "the trust bundle is public")
}

func TestFlagErrorsNameTheFix(t *testing.T) {
	for name, args := range map[string][]string{
		"acme without tos": {"-autotls_acme", "https://127.0.0.1:1/dir"},
		"ca cert only":     {"-autotls_ca_cert", "ca.pem"},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), args, io.Discard, nil)
			require.Error(t, err)
			require.Contains(t, err.Error(), "-autotls_")
		})
	}
}

func TestSidecarModeExportsFiles(t *testing.T) {
	dir, export := t.TempDir(), t.TempDir()
	startBinary(t, "-autotls_storage", dir, "-autotls_export", export,
		"-autotls_reload_pid", "999999999", "-autotls_confirm", "127.0.0.1:1")

	key := filepath.Join(export, "client.key")
	require.Eventually(t, func() bool { _, err := os.Stat(key); return err == nil }, 20*time.Second, 20*time.Millisecond)
	info, err := os.Stat(key)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	pair, err := tls.LoadX509KeyPair(filepath.Join(export, "client.crt"), key)
	require.NoError(t, err, "the exported certificate and key belong together")
	require.NoError(t, pair.Leaf.VerifyHostname("localhost"))
}

func TestNewCAIsSharedByNodes(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "cluster-ca")
	require.NoError(t, run(context.Background(), []string{"-autotls_new_ca", prefix}, io.Discard, nil))
	for path, mode := range map[string]os.FileMode{prefix + ".pem": 0o644, prefix + ".key": 0o600} {
		info, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, mode, info.Mode().Perm(), path)
	}
	key, err := os.ReadFile(prefix + ".key")
	require.NoError(t, err)

	err = run(context.Background(), []string{"-autotls_new_ca", prefix}, io.Discard, nil)
	require.ErrorContains(t, err, "exists")
	again, err := os.ReadFile(prefix + ".key")
	require.NoError(t, err)
	require.Equal(t, key, again, "an existing CA key is never overwritten")

	caPEM, err := os.ReadFile(prefix + ".pem")
	require.NoError(t, err)
	dir := t.TempDir()
	n := startBinary(t, "-a", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-autotls_storage", dir,
		"-autotls_ca_cert", prefix+".pem", "-autotls_ca_key", prefix+".key")
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(caPEM))
	cert, _, err := n.manager.Current("cluster")
	require.NoError(t, err)
	_, err = cert.Leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err, "the cluster certificate chains to the shared CA")
}

func TestStatusEndpoint(t *testing.T) {
	statusAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	startBinary(t, "-a", "127.0.0.1", "-p", strconv.Itoa(freePort(t)), "-autotls_storage", t.TempDir(), "-autotls_status", statusAddr)

	resp, err := http.Get("http://" + statusAddr + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var rep statusReport
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
	require.NotEmpty(t, rep.Certificates)
	for _, c := range rep.Certificates {
		require.True(t, c.NotAfter.After(time.Now()), "certificate for %v", c.Names)
		require.True(t, c.NextRenewal.Before(c.NotAfter), "renewal of %v planned before expiry", c.Names)
	}
	require.Contains(t, rep.Expiry, "client")
}

// SIGHUP's path: the config file is re-read and applied with managed TLS
// (a plain nats-server reload would drop it): the change takes effect, the
// client listener still serves managed TLS and a connected client stays.
func TestReloadConfigKeepsManagedTLS(t *testing.T) {
	port := freePort(t)
	conf := filepath.Join(t.TempDir(), "nats.conf")
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\n", port), 0o600))
	dir := t.TempDir()
	n := startBinary(t, "-c", conf, "-autotls_storage", dir)

	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(n.manager.TrustBundlePEM()))
	var disconnected atomic.Bool
	nc, err := nats.Connect(fmt.Sprintf("tls://localhost:%d", port), nats.Secure(&tls.Config{RootCAs: roots}),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { disconnected.Store(true) }))
	require.NoError(t, err)
	defer nc.Close()
	cid, err := nc.GetClientID()
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\nmax_connections: 123\n", port), 0o600))
	require.NoError(t, n.reloadConfig(context.Background()))
	vz, err := n.server.Varz(nil)
	require.NoError(t, err)
	require.Equal(t, 123, vz.MaxConn, "the reloaded option took effect")
	require.True(t, vz.TLSRequired)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := reload.Handshake(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &tls.Config{RootCAs: roots, ServerName: "localhost"}, false)
	require.NoError(t, err, "the client listener still serves managed TLS")
	require.NotEmpty(t, cs.PeerCertificates)

	require.NoError(t, nc.Flush())
	again, err := nc.GetClientID()
	require.NoError(t, err)
	require.Equal(t, cid, again)
	require.False(t, disconnected.Load(), "the client was disconnected by the reload")
}

// The production path: public listeners from an ACME CA (Pebble, in
// process) over http-01, the directory trusted through -autotls_acme_roots.
func TestACMEOverHTTP01(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	roots := writeDirectoryRoots(t, ca)
	name := fmt.Sprintf("bin-%d.example.test", time.Now().UnixNano())
	port := freePort(t)
	startBinary(t, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-autotls_storage", t.TempDir(),
		"-autotls_names", name, "-autotls_acme", ca.DirectoryURL, "-autotls_agree_tos",
		"-autotls_acme_roots", roots, "-autotls_http01", net.JoinHostPort("127.0.0.1", strconv.Itoa(ca.HTTPPort)))

	nc, err := nats.Connect(fmt.Sprintf("tls://127.0.0.1:%d", port),
		nats.Secure(&tls.Config{RootCAs: ca.Roots(t), ServerName: name}), nats.Timeout(10*time.Second))
	require.NoError(t, err, "a client trusting only the ACME CA verifies the served certificate")
	defer nc.Close()
	cs, err := nc.TLSConnectionState()
	require.NoError(t, err)
	require.Equal(t, []string{name}, cs.PeerCertificates[0].DNSNames)
	require.NoError(t, nc.Flush())
}

// writeDirectoryRoots writes the root of ca's directory HTTPS certificate
// to a PEM file, for -autotls_acme_roots.
func writeDirectoryRoots(t *testing.T, ca *acmetest.CA) string {
	t.Helper()
	roots := filepath.Join(t.TempDir(), "acme-roots.pem")
	require.NoError(t, os.WriteFile(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.DirectoryCert.Raw}), 0o644))
	return roots
}
