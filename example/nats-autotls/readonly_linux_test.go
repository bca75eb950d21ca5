//go:build linux

package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// TestRestartFromReadOnlyStorage (issue 12, fault 5): the binary rewrote
// ca-bundle.pem at every start, so with its storage on a read-only mount
// it exited although the CA and certificates it needs were stored. Now it
// writes the bundle only when its content changes, and serves.
func TestRestartFromReadOnlyStorage(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	args := func(storage string) []string {
		return []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port), "-autotls_storage", storage}
	}
	_, stop := runUntilReady(t, args(dir)...)
	stop()
	bundle := filepath.Join(dir, "ca-bundle.pem")
	before, err := os.Stat(bundle)
	require.NoError(t, err)

	_, stop = runUntilReady(t, args(dir)...)
	stop()
	after, err := os.Stat(bundle)
	require.NoError(t, err)
	require.Equal(t, before.Sys().(*syscall.Stat_t).Ino, after.Sys().(*syscall.Stat_t).Ino, "ca-bundle.pem rewritten with the same content")

	ro := t.TempDir()
	if err := syscall.Mount(dir, ro, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(ro, syscall.MNT_DETACH) })
	require.NoError(t, syscall.Mount("", ro, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""))
	runUntilReady(t, args(ro)...)

	pem, err := os.ReadFile(bundle)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(pem))
	nc, err := nats.Connect(fmt.Sprintf("tls://localhost:%d", port), nats.Secure(&tls.Config{RootCAs: roots}))
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.Flush())
}
