package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/reload"
)

// A client listener on cert_file/key_file stays on those files across a
// reload, as in nats-server: the operator replaces the files, the reload
// serves the new certificate, while the cluster listener stays managed;
// /status lists the listener as unmanaged with its expiry.
func TestUnmanagedListenerReloadsItsFiles(t *testing.T) {
	ca := newTestCA(t, "file test CA")
	first, second := ca.issue(t, "localhost", "127.0.0.1"), ca.issue(t, "127.0.0.1", "localhost")
	certFile, keyFile := first.certPEM+".live", first.keyP+".live"
	install := func(c issued) {
		for src, dst := range map[string]string{c.certPEM: certFile, c.keyP: keyFile} {
			b, err := os.ReadFile(src)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(dst, b, 0o600))
		}
	}
	install(first)
	port, statusPort := freePort(t), freePort(t)
	conf := writeConf(t, fmt.Sprintf("host: 127.0.0.1\nport: %d\ntls { cert_file: %q, key_file: %q }\ncluster { name: C, host: 127.0.0.1, port: -1 }\n",
		port, certFile, keyFile))
	statusAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(statusPort))
	n := startBinary(t, "-c", conf, "-autotls_storage", t.TempDir(), "-autotls_status", statusAddr)
	require.True(t, n.manager.Serves(n.currentOpts().Cluster.TLSConfig), "the cluster stays managed")

	served := func() []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cs, err := reload.Handshake(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &tls.Config{RootCAs: ca.pool(), ServerName: "localhost"}, false)
		require.NoError(t, err)
		return cs.PeerCertificates[0].Raw
	}
	require.Equal(t, first.cert.Leaf.Raw, served())

	resp, err := http.Get("http://" + statusAddr + "/status")
	require.NoError(t, err)
	var rep statusReport
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
	resp.Body.Close()
	require.Len(t, rep.Unmanaged, 1)
	require.Equal(t, "client", rep.Unmanaged[0].Listener)
	require.True(t, first.cert.Leaf.NotAfter.Equal(rep.Unmanaged[0].NotAfter))
	require.True(t, first.cert.Leaf.NotAfter.Equal(rep.Expiry["client"]))

	install(second)
	require.NoError(t, n.reloadConfig(context.Background()))
	require.Equal(t, second.cert.Leaf.Raw, served(), "the reload serves the replaced files")
	require.True(t, n.manager.Serves(n.currentOpts().Cluster.TLSConfig))
}
