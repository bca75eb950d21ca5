package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/testbin"
	"github.com/nats-autotls/autotls/reload"
)

func TestManagedTLSArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		rest []string
		want cliTLS
	}{
		{"none", []string{"-p", "4222"}, []string{"-p", "4222"}, cliTLS{}},
		{"verify with a CA", []string{"-p", "-1", "--tlsverify", "--tlscacert", "ca.pem"}, []string{"-p", "-1"}, cliTLS{set: true, verify: true, ca: "ca.pem"}},
		{"tls alone, = forms", []string{"-tls=true", "-tlscacert=ca.pem", "-a", "h"}, []string{"-a", "h"}, cliTLS{set: true, ca: "ca.pem"}},
		{"verify off", []string{"--tlsverify=false"}, []string{}, cliTLS{set: true}},
		{"with a certificate: nats-server's meaning", []string{"--tlsverify", "--tlscert", "c.pem", "--tlskey", "k.pem"}, []string{"--tlsverify", "--tlscert", "c.pem", "--tlskey", "k.pem"}, cliTLS{}},
		{"tls=false: nats-server's meaning", []string{"--tls=false"}, []string{"--tls=false"}, cliTLS{}},
		{"after --", []string{"--", "--tlsverify"}, []string{"--", "--tlsverify"}, cliTLS{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rest, got, err := managedTLSArgs(tc.args)
			require.NoError(t, err)
			require.Equal(t, tc.rest, rest)
			require.Equal(t, tc.want, got)
		})
	}
	for _, bad := range [][]string{{"--tlscacert"}, {"--tlsverify=maybe"}} {
		_, _, err := managedTLSArgs(bad)
		require.Error(t, err, "%v", bad)
	}
}

// TestParityTLSFlags: --tlsverify --tlscacert mean on nats-autotls, with
// its managed certificate, what they mean on nats-server with --tlscert.
func TestParityTLSFlags(t *testing.T) {
	natsServer, autotls := parityBinaries(t)
	clientCA := newTestCA(t, "client test CA")
	alice := clientCA.issue(t, "alice")
	serverCA := newTestCA(t, "server test CA")
	serverCert := serverCA.issue(t, "localhost", "127.0.0.1")
	for _, target := range []struct {
		name string
		bin  string
	}{{"nats-server", natsServer}, {"nats-autotls", autotls}} {
		t.Run(target.name, func(t *testing.T) {
			port := freePort(t)
			args := []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port), "--tlsverify", "--tlscacert", clientCA.pem}
			roots := serverCA.pool()
			storage := t.TempDir()
			if target.bin == natsServer {
				args = append(args, "--tlscert", serverCert.certPEM, "--tlskey", serverCert.keyP)
			} else {
				args = append(args, "-autotls_storage", storage)
			}
			p := testbin.Start(t, parityWait, target.bin, args...)
			p.WaitFor(t, "Server is ready", 1)
			if target.bin == autotls {
				roots = readBundle(t, storage)
			}
			url := fmt.Sprintf("tls://127.0.0.1:%d", port)
			require.Error(t, probe{}.dial(url, roots), "%s: no client certificate", target.name)
			require.NoError(t, probe{tls: withCert(alice.cert)}.dial(url, roots), "%s: a certificate from --tlscacert", target.name)
		})
	}
}

// TestReloadKeepsTLSFlags: nats-server's reload keeps no TLS from flags;
// the binary puts it back, so a SIGHUP neither drops --tlsverify nor swaps
// a --tlscert certificate for a managed one.
func TestReloadKeepsTLSFlags(t *testing.T) {
	clientCA := newTestCA(t, "client test CA")
	alice := clientCA.issue(t, "alice")
	fileCA := newTestCA(t, "file test CA")
	fileCert := fileCA.issue(t, "localhost", "127.0.0.1")
	conf := writeConf(t, "max_payload: 65536\n")
	for _, tc := range []struct {
		name    string
		args    []string
		managed bool
	}{
		{"managed with --tlsverify", []string{"--tlsverify", "--tlscacert", clientCA.pem}, true},
		{"files with --tlscert", []string{"--tlsverify", "--tlscacert", clientCA.pem, "--tlscert", fileCert.certPEM, "--tlskey", fileCert.keyP}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			n := startBinary(t, append([]string{"-c", conf, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-autotls_storage", t.TempDir()}, tc.args...)...)
			roots := fileCA.pool()
			if tc.managed {
				roots = readBundlePEM(t, n.manager.TrustBundlePEM())
			}
			check := func() {
				t.Helper()
				url := fmt.Sprintf("tls://127.0.0.1:%d", port)
				require.Error(t, probe{}.dial(url, roots), "no client certificate")
				require.NoError(t, probe{tls: withCert(alice.cert)}.dial(url, roots))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				cs, err := reload.Handshake(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
					&tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{*alice.cert}}, false)
				require.NoError(t, err)
				require.Equal(t, tc.managed, !fileCert.cert.Leaf.Equal(cs.PeerCertificates[0]))
			}
			check()
			require.NoError(t, n.reloadConfig(context.Background()))
			check()
		})
	}
}

// readBundle reads the trust bundle nats-autotls wrote in storage.
func readBundle(t *testing.T, storage string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(storage, "ca-bundle.pem"))
	require.NoError(t, err)
	return readBundlePEM(t, b)
}

// readBundlePEM returns a pool of the PEM certificates in b.
func readBundlePEM(t *testing.T, b []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(b))
	return pool
}
