package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// The built binary as an operator runs it: SIGHUP reloads and keeps
// serving managed TLS, SIGTERM stops it cleanly with exit status 0.
func TestBinarySignals(t *testing.T) {
	dir := t.TempDir()
	bin := autotlsBinary(t)

	port := freePort(t)
	conf := filepath.Join(dir, "nats.conf")
	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\n", port), 0o600))
	storage := filepath.Join(dir, "storage")
	cmd := exec.Command(bin, "-c", conf, "-autotls_storage", storage)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitLine(t, lines, "nats-autotls ready")

	roots := x509.NewCertPool()
	pem, err := os.ReadFile(filepath.Join(storage, "ca-bundle.pem"))
	require.NoError(t, err)
	require.True(t, roots.AppendCertsFromPEM(pem))
	nc, err := nats.Connect(fmt.Sprintf("tls://localhost:%d", port), nats.Secure(&tls.Config{RootCAs: roots}), nats.NoReconnect())
	require.NoError(t, err)
	defer nc.Close()

	require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\nmax_payload: 65536\n", port), 0o600))
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	waitLine(t, lines, "[INF] reloaded")
	require.NoError(t, nc.Flush(), "the client survives the reload")
	fresh, err := nats.Connect(fmt.Sprintf("tls://localhost:%d", port), nats.Secure(&tls.Config{RootCAs: roots}))
	require.NoError(t, err, "managed TLS still served after the reload")
	require.Equal(t, int64(65536), fresh.MaxPayload(), "the reloaded option took effect")
	fresh.Close()

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "exit status after SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("nats-autotls did not stop within 30s of SIGTERM")
	}
}

// waitLine reads lines until one contains want.
func waitLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "nats-autotls exited before printing %q", want)
			if strings.Contains(l, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q line within 60s", want)
		}
	}
}
