package tlsmgr_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// managerHolderEnv names the storage directory of
// TestHelperManagerHoldingOrderLock; the helper only runs when it is set.
const managerHolderEnv = "AUTOTLS_MANAGER_HOLDER_DIR"

// TestHelperManagerHoldingOrderLock is not a test:
// TestManagerHoldingOrderLockKilled runs the test binary again with only
// this function. It starts a Manager whose issuer, once asked, prints
// "ordering" and never answers, so the process holds the certificate's
// order lock until it is killed.
func TestHelperManagerHoldingOrderLock(t *testing.T) {
	dir := os.Getenv(managerHolderEnv)
	if dir == "" {
		t.Skip("helper process for TestManagerHoldingOrderLockKilled")
	}
	ca := newCA(t, nil, time.Hour)
	iss := &testIssuer{RootsIssuer: ca, gate: make(chan struct{}), entered: make(chan struct{})}
	m, err := tlsmgr.New(tlsmgr.Config{
		Issuer:    iss,
		PrivateCA: iss, // one issuer for every role: a single certificate and lock
		Storage:   tlsmgr.NewFileStorage(dir, tlsmgr.WithLockLease(killLease)),
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	go func() {
		select {
		case <-iss.entered:
			fmt.Println("ordering")
		case <-ctx.Done():
		}
	}()
	err = m.Start(ctx) // returns only when ctx ends: the order never completes
	fmt.Println("error:", err)
	_ = m.Close()
}

// TestManagerHoldingOrderLockKilled kills, with SIGKILL, a process whose
// Manager holds the order lock of a certificate in a FileStorage, then
// starts another Manager on the same storage: it takes the lock over within
// the documented bound of three leases, orders the certificate exactly once
// and serves it in a real handshake.
func TestManagerHoldingOrderLockKilled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd, stdout := startHelperProcess(t, ctx, "TestHelperManagerHoldingOrderLock", managerHolderEnv, dir)

	line, err := stdout.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ordering\n", line, "the helper is ordering")
	held, err := filepath.Glob(filepath.Join(dir, "locks", "cert-*.lock"))
	require.NoError(t, err)
	require.Len(t, held, 1, "the helper holds the certificate's order lock")

	require.NoError(t, cmd.Process.Kill())
	killed := time.Now()
	var exitErr *exec.ExitError
	require.ErrorAs(t, cmd.Wait(), &exitErr, "the helper was killed")

	ca := newCA(t, nil, time.Hour)
	iss := &testIssuer{RootsIssuer: ca}
	m, err := tlsmgr.New(tlsmgr.Config{
		Issuer:    iss,
		PrivateCA: iss,
		Storage:   tlsmgr.NewFileStorage(dir, tlsmgr.WithLockLease(killLease)),
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	startCtx, cancelStart := context.WithTimeout(ctx, 10*time.Second)
	defer cancelStart()
	require.NoError(t, m.Start(startCtx))
	took := time.Since(killed)
	t.Logf("certificate obtained %v after SIGKILL of the lock holder (lease %v)", took.Round(time.Millisecond), killLease)
	require.Less(t, took, 3*killLease, "documented takeover bound")
	require.EqualValues(t, 1, iss.orders.Load(), "one order")

	cfg, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	leaf := servedLeaf(t, serve(t, cfg), roots, "localhost")
	cur, _, err := m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.Equal(t, cur.Leaf.Raw, leaf.Raw, "the handshake served the certificate just ordered")
}

// startHelperProcess runs the test binary again with only the test called
// name and env set to dir, and returns the process with its stdout. The
// process is killed when ctx ends; its stdin is closed at cleanup, and it
// is killed then if still running.
func startHelperProcess(t *testing.T, ctx context.Context, name, env, dir string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.timeout=30s")
	cmd.Env = append(os.Environ(), env+"="+dir)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Process.Kill() })
	return cmd, bufio.NewReader(stdout)
}
