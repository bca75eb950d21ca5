package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/atomicfile"
)

func TestWriteFileModes(t *testing.T) {
	tests := []struct {
		name string
		mode os.FileMode
	}{
		{"private", 0o600},
		{"world readable", 0o644},
		{"owner only read", 0o400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "sub", "dir", "f")
			require.NoError(t, atomicfile.WriteFile(name, []byte("data"), tt.mode))
			fi, err := os.Stat(name)
			require.NoError(t, err)
			require.Equal(t, tt.mode, fi.Mode().Perm())
			dir, err := os.Stat(filepath.Dir(name))
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o700), dir.Mode().Perm(), "missing parents are private")
			got, err := os.ReadFile(name)
			require.NoError(t, err)
			require.Equal(t, "data", string(got))
		})
	}
}

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(name, []byte("old content"), 0o600))
	old, err := os.Open(name)
	require.NoError(t, err)
	t.Cleanup(func() { old.Close() })

	require.NoError(t, atomicfile.WriteFile(name, []byte("new"), 0o600))
	got, err := os.ReadFile(name)
	require.NoError(t, err)
	require.Equal(t, "new", string(got))
	buf := make([]byte, 64)
	n, err := old.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "old content", string(buf[:n]), "a reader of the old file sees it whole: the file was replaced, not rewritten")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")
}

func TestWriteFileFailureLeavesOldContent(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(name, []byte("old"), 0o600))
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	require.Error(t, atomicfile.WriteFile(name, []byte("new"), 0o600))
	got, err := os.ReadFile(name)
	require.NoError(t, err)
	require.Equal(t, "old", string(got))
}
