//go:build linux

package tlsmgr_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestServesFromReadOnlyMount (issue 12, fault 5): the storage directory is
// a read-only bind mount. Needs the right to mount (root); skipped
// otherwise.
func TestServesFromReadOnlyMount(t *testing.T) {
	dir := t.TempDir()
	serial := seedStorage(t, dir)
	ro := t.TempDir()
	if err := syscall.Mount(dir, ro, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(ro, syscall.MNT_DETACH) })
	require.NoError(t, syscall.Mount("", ro, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""))
	require.ErrorIs(t, os.WriteFile(filepath.Join(ro, "probe"), nil, 0o600), syscall.EROFS)
	servesWithoutWrites(t, ro, tlsmgr.NewFileStorage(ro), serial)
}

// TestServesFromFullDisk (issue 12, fault 5): the storage directory is a
// full tmpfs. Needs the right to mount (root); skipped otherwise.
func TestServesFromFullDisk(t *testing.T) {
	full := t.TempDir()
	if err := syscall.Mount("tmpfs", full, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(full, syscall.MNT_DETACH) })
	serial := seedStorage(t, full)
	filler, err := os.Create(filepath.Join(full, "filler"))
	require.NoError(t, err)
	chunk := bytes.Repeat([]byte{0}, 4096)
	for {
		if _, err := filler.Write(chunk); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			break
		}
	}
	require.NoError(t, filler.Close())
	err = os.WriteFile(filepath.Join(full, "probe"), chunk, 0o600)
	require.True(t, err != nil && strings.Contains(err.Error(), "no space"), "disk not full: %v", err)
	_ = os.Remove(filepath.Join(full, "probe"))
	servesWithoutWrites(t, full, tlsmgr.NewFileStorage(full), serial)
}
