package reload_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// external is a nats-server process reading exported files.
type external struct {
	proc    *process
	addr    string
	pidFile string
}

// listenRE finds the client port in nats-server's log.
var listenRE = regexp.MustCompile(`Listening for client connections on (\S+)`)

// startExternal writes a config that names e's stable paths, starts the
// real nats-server binary on it and waits until it is ready.
func startExternal(t *testing.T, e *reload.Exporter) *external {
	t.Helper()
	dir := t.TempDir()
	conf, pidFile := filepath.Join(dir, "nats.conf"), filepath.Join(dir, "nats.pid")
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, `
host: 127.0.0.1
port: -1
pid_file: %q
tls {
  cert_file: %q
  key_file: %q
}
`, pidFile, e.CertFile(tlsmgr.RoleClient), e.KeyFile(tlsmgr.RoleClient)), 0o600))
	p := startProcess(t, natsServerBin(t), "-c", conf)
	line := p.waitFor(t, "Listening for client connections on", 1)
	p.waitFor(t, "Server is ready", 1)
	return &external{proc: p, addr: listenRE.FindStringSubmatch(line)[1], pidFile: pidFile}
}

// TestSidecar: against a real nats-server process (found by its pid_file),
// each renewal is exported, signalled and confirmed; the server then serves
// the new certificate, reloaded once per renewal, and a connected client
// never disconnects.
func TestSidecar(t *testing.T) {
	m := newManager(t, newCA(t))
	e := reload.Exporter{Manager: m, Dir: filepath.Join(t.TempDir(), "certs"), Roles: []tlsmgr.Role{tlsmgr.RoleClient}}
	_, err := e.Export(context.Background())
	require.NoError(t, err)
	srv := startExternal(t, &e)

	var dropped atomic.Int64
	nc, err := nats.Connect("tls://"+srv.addr, nats.Secure(&tls.Config{RootCAs: pool(t, m)}),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { dropped.Add(1) }),
		nats.ReconnectHandler(func(*nats.Conn) { dropped.Add(1) }))
	require.NoError(t, err)
	t.Cleanup(nc.Close)

	results := make(chan error, 16)
	sc := &reload.Sidecar{Exporter: e, PIDFile: srv.pidFile, ConfirmAddr: srv.addr, OnSync: func(err error) { results <- err }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
	next := func() error {
		t.Helper()
		select {
		case err := <-results:
			return err
		case <-time.After(wait):
			t.Fatal("no sidecar round")
			return nil
		}
	}
	require.NoError(t, next(), "first round: the server already serves the exported files")
	require.Zero(t, srv.proc.count("Reloaded server configuration"))

	for i := 1; i <= 3; i++ {
		require.NoError(t, m.Renew(context.Background(), tlsmgr.RoleClient))
		require.NoError(t, next(), "round %d", i)
		cs, err := reload.Handshake(context.Background(), srv.addr, &tls.Config{RootCAs: pool(t, m), ServerName: "localhost"}, false)
		require.NoError(t, err)
		require.Equal(t, leaf(t, m, tlsmgr.RoleClient).Raw, cs.PeerCertificates[0].Raw, "round %d", i)
		srv.proc.waitFor(t, "Reloaded server configuration", i)
		require.NoError(t, nc.Flush())
	}
	require.Zero(t, dropped.Load(), "the client was disconnected")
	require.True(t, nc.IsConnected())
}

// TestSidecarWrongPID: when the signal goes to a process that is not the
// server (a sleep, which SIGHUP ends) or to no process at all, Sync returns
// a *ConfirmError within the confirmation timeout: the server still serves
// the previous certificate.
func TestSidecarWrongPID(t *testing.T) {
	m := newManager(t, newCA(t))
	e := reload.Exporter{Manager: m, Dir: filepath.Join(t.TempDir(), "certs"), Roles: []tlsmgr.Role{tlsmgr.RoleClient}}
	_, err := e.Export(context.Background())
	require.NoError(t, err)
	srv := startExternal(t, &e)

	served := leaf(t, m, tlsmgr.RoleClient)
	gone := exec.Command("true")
	require.NoError(t, gone.Run())
	for _, tc := range []struct {
		name      string
		pid       func() int
		signalErr bool
	}{
		{"not nats-server", func() int { return startProcess(t, "sleep", "60").cmd.Process.Pid }, false},
		{"no such process", func() int { return gone.Process.Pid }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, m.Renew(context.Background(), tlsmgr.RoleClient))
			sc := &reload.Sidecar{Exporter: e, PID: tc.pid(), ConfirmAddr: srv.addr, ConfirmTimeout: time.Second}
			start := time.Now()
			err := sc.Sync(context.Background())
			elapsed := time.Since(start)
			var ce *reload.ConfirmError
			require.True(t, errors.As(err, &ce), "want a ConfirmError, got %v", err)
			require.Equal(t, leaf(t, m, tlsmgr.RoleClient).SerialNumber.Text(16), ce.Want)
			require.NotEqual(t, ce.Want, ce.Got)
			require.Equal(t, served.SerialNumber.Text(16), ce.Got, "the server should still serve the first certificate")
			require.Equal(t, tc.signalErr, ce.Err != nil, "signal error: %v", ce.Err)
			require.Less(t, elapsed, 3*time.Second)
			t.Log(err)
		})
	}
}
