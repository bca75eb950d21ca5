package reload_test

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/reload"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestExporter: the stable paths load as a matching pair equal to the
// Manager's certificate, keys are 0600, an unchanged export writes nothing,
// a renewal writes a new version that the stable paths follow, and only two
// versions stay on disk.
func TestExporter(t *testing.T) {
	m := newManager(t, newCA(t))
	e := &reload.Exporter{Manager: m, Dir: filepath.Join(t.TempDir(), "certs"), Roles: []tlsmgr.Role{tlsmgr.RoleClient, tlsmgr.RoleCluster}}
	ctx := context.Background()

	check := func() {
		t.Helper()
		for _, r := range e.Roles {
			pair, err := tls.LoadX509KeyPair(e.CertFile(r), e.KeyFile(r))
			require.NoError(t, err, r)
			require.Equal(t, leaf(t, m, r).Raw, pair.Certificate[0], r)
			fi, err := os.Stat(e.KeyFile(r))
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "key file mode of %s", r)
			fi, err = os.Stat(e.CertFile(r))
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "cert file mode of %s", r)
		}
		ca, err := os.ReadFile(e.CAFile())
		require.NoError(t, err)
		require.Equal(t, m.TrustBundlePEM(), ca)
	}

	changed, err := e.Export(ctx)
	require.NoError(t, err)
	require.True(t, changed)
	check()

	changed, err = e.Export(ctx)
	require.NoError(t, err)
	require.False(t, changed, "an unchanged export wrote a new version")

	for range 3 {
		require.NoError(t, m.Renew(ctx, tlsmgr.RoleClient))
		changed, err = e.Export(ctx)
		require.NoError(t, err)
		require.True(t, changed)
		check()
	}
	require.Equal(t, []string{".v-3", ".v-4"}, versionDirs(t, e.Dir))
	target, err := os.Readlink(filepath.Join(e.Dir, reload.CurrentLink))
	require.NoError(t, err)
	require.Equal(t, ".v-4", target)
}

// TestExporterInterrupted: a version directory left by an export that
// crashed before its swap is removed by the next export, which keeps the
// version it replaced (a reader may still be opening files in it).
func TestExporterInterrupted(t *testing.T) {
	m := newManager(t, newCA(t))
	e := &reload.Exporter{Manager: m, Dir: filepath.Join(t.TempDir(), "certs"), Roles: []tlsmgr.Role{tlsmgr.RoleClient}}
	ctx := context.Background()
	_, err := e.Export(ctx)
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(filepath.Join(e.Dir, ".v-2"), 0o755)) // crashed before the swap

	require.NoError(t, m.Renew(ctx, tlsmgr.RoleClient))
	changed, err := e.Export(ctx)
	require.NoError(t, err)
	require.True(t, changed)
	pair, err := tls.LoadX509KeyPair(e.CertFile(tlsmgr.RoleClient), e.KeyFile(tlsmgr.RoleClient))
	require.NoError(t, err)
	require.Equal(t, leaf(t, m, tlsmgr.RoleClient).Raw, pair.Certificate[0])
	require.Equal(t, []string{".v-1", ".v-3"}, versionDirs(t, e.Dir), "the replaced version must stay, the partial one go")
}

// versionDirs lists the version directories in dir.
func versionDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var versions []string
	for _, de := range entries {
		if strings.HasPrefix(de.Name(), ".v-") {
			versions = append(versions, de.Name())
		}
	}
	return versions
}
