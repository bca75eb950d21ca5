package reload_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/reload"
)

// noticeLog collects a server's notices.
type noticeLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *noticeLog) Noticef(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, v...))
}
func (l *noticeLog) Warnf(string, ...any)  {}
func (l *noticeLog) Fatalf(string, ...any) {}
func (l *noticeLog) Errorf(string, ...any) {}
func (l *noticeLog) Debugf(string, ...any) {}
func (l *noticeLog) Tracef(string, ...any) {}

func (l *noticeLog) with(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// TestOptionsKeepsFilePolicy: a configuration file whose tls blocks carry
// a policy (verify with ca_file, min_version), parsed again and applied
// with reload.Options, gives the same composed *tls.Config pointers, so
// nats-server reloads no TLS setting and a verified client stays
// connected; the policy still holds after the reload.
func TestOptionsKeepsFilePolicy(t *testing.T) {
	ca := newCA(t)
	m := newManager(t, ca)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "clients.pem")
	require.NoError(t, os.WriteFile(caFile, m.TrustBundlePEM(), 0o644))
	conf := filepath.Join(dir, "nats.conf")
	write := func(maxPayload int) {
		require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, `host: 127.0.0.1
port: -1
max_payload: %d
tls { ca_file: %q, verify: true, min_version: "1.3" }
cluster { name: C, host: 127.0.0.1, port: -1, tls { ca_file: %q } }
`, maxPayload, caFile, caFile), 0o600))
	}
	write(65536)
	opts, err := server.ProcessConfigFile(conf)
	require.NoError(t, err)
	opts.NoSigs = true
	s := startServer(t, opts, m)
	log := &noticeLog{}
	s.SetLogger(log, false, false)

	clientCert, _, err := m.Current("cluster") // serverAuth+clientAuth from the CA in ca_file
	require.NoError(t, err)
	url := fmt.Sprintf("tls://localhost:%d", opts.Port)
	nc, err := nats.Connect(url, nats.Secure(&tls.Config{RootCAs: pool(t, m), Certificates: []tls.Certificate{*clientCert}}))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	cid, err := nc.GetClientID()
	require.NoError(t, err)

	write(131072)
	newOpts, err := server.ProcessConfigFile(conf)
	require.NoError(t, err)
	newOpts.NoSigs, newOpts.Port, newOpts.Cluster.Port = true, opts.Port, opts.Cluster.Port
	require.NoError(t, reload.Options(context.Background(), s, newOpts, m))
	require.Same(t, opts.TLSConfig, newOpts.TLSConfig, "the same policy gives the same config")
	require.Same(t, opts.Cluster.TLSConfig, newOpts.Cluster.TLSConfig)
	require.Len(t, log.with("Reloaded server configuration"), 1)
	require.Empty(t, log.with("Reloaded: tls"), "nats-server reloaded TLS although nothing changed")
	require.Empty(t, log.with("Reloaded: cluster"))

	require.NoError(t, nc.Flush())
	again, err := nc.GetClientID()
	require.NoError(t, err)
	require.Equal(t, cid, again, "the client stayed connected")
	fresh, err := nats.Connect(url, nats.Secure(&tls.Config{RootCAs: pool(t, m), Certificates: []tls.Certificate{*clientCert}}))
	require.NoError(t, err)
	require.Equal(t, int64(131072), fresh.MaxPayload(), "the reload took effect")
	fresh.Close()

	_, err = nats.Connect(url, nats.Secure(&tls.Config{RootCAs: pool(t, m)}), nats.NoReconnect())
	require.Error(t, err, "verify still refuses a client without a certificate")
	_, err = nats.Connect(url, nats.Secure(&tls.Config{RootCAs: pool(t, m), Certificates: []tls.Certificate{*clientCert}, MaxVersion: tls.VersionTLS12}), nats.NoReconnect())
	require.Error(t, err, "min_version 1.3 still refuses TLS 1.2")
}
