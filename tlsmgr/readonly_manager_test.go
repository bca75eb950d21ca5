package tlsmgr_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// noWrites is a storage whose disk is full: every write fails.
type noWrites struct{ tlsmgr.Storage }

var errNoSpace = fmt.Errorf("write: %w", syscall.ENOSPC)

func (noWrites) Store(context.Context, string, []byte) error { return errNoSpace }
func (noWrites) Delete(context.Context, string) error        { return errNoSpace }
func (noWrites) Lock(context.Context, string) error          { return errNoSpace }
func (noWrites) Unlock(context.Context, string) error        { return errNoSpace }

// logBuffer collects log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// dirDigest hashes every file under dir, names and contents.
func dirDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		fmt.Fprintf(h, "%s %x %v\n", p, sha256.Sum256(data), err)
		return nil
	}))
	return fmt.Sprintf("%x", h.Sum(nil))
}

// seedStorage runs a development-mode Manager on a FileStorage in dir, so
// that dir holds a private CA and a certificate, and returns the serial of
// the certificate served to clients.
func seedStorage(t *testing.T, dir string) string {
	t.Helper()
	m := startManager(t, tlsmgr.Config{Storage: tlsmgr.NewFileStorage(dir)})
	c, _, err := m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	return c.Leaf.SerialNumber.String()
}

// servesWithoutWrites starts a Manager on storage, which holds a valid CA
// and certificate but takes no write, and checks what a user sees: Start
// succeeds, a client gets the stored certificate, a renewal goes ahead
// without the lock and is served, the failure to store it is reported,
// and nothing on disk under dir changed.
func servesWithoutWrites(t *testing.T, dir string, storage tlsmgr.Storage, serial string) {
	t.Helper()
	before := dirDigest(t, dir)
	var logs logBuffer
	events := newEventLog()
	m := startManager(t, tlsmgr.Config{Storage: storage, Logger: logs.logger(), OnEvent: events.add})
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(m.TrustBundlePEM()))
	cfg, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	addr := serve(t, cfg)
	require.Equal(t, serial, servedLeaf(t, addr, roots, "localhost").SerialNumber.String(), "the stored certificate is served")

	require.NoError(t, m.Renew(testCtx(t), tlsmgr.RoleClient))
	ev := events.wait(t, tlsmgr.EventFailed)
	require.ErrorContains(t, ev.Err, "store")
	renewed := servedLeaf(t, addr, roots, "localhost").SerialNumber.String()
	require.NotEqual(t, serial, renewed, "the renewed certificate is served though it could not be stored")
	require.Contains(t, logs.String(), "storage lock unavailable: ordering without it")
	require.Equal(t, before, dirDigest(t, dir), "bytes on disk")
}

// TestServesFromStorageThatRefusesWrites (issue 12, fault 5): a storage
// failing every write (a full disk) with a valid CA and certificate.
// Before the change Start failed on the private CA's lock.
func TestServesFromStorageThatRefusesWrites(t *testing.T) {
	dir := t.TempDir()
	serial := seedStorage(t, dir)
	servesWithoutWrites(t, dir, noWrites{tlsmgr.NewFileStorage(dir)}, serial)
}
