package tlsmgr_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
	"github.com/nats-autotls/autotls/tlsmgr/storagetest"
)

// fileLease is the lock lease of FileStorage tests: short enough to keep
// them fast, long enough for renewals under -race on a loaded machine.
const fileLease = time.Second

func TestFileStorage(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) (tlsmgr.Storage, tlsmgr.Storage) {
		dir := t.TempDir()
		return tlsmgr.NewFileStorage(dir, tlsmgr.WithLockLease(fileLease)),
			tlsmgr.NewFileStorage(dir, tlsmgr.WithLockLease(fileLease))
	})
}

// TestFileStorageModes checks, with umask 0 so that nothing but the code
// sets them, that every file is 0600 and every directory 0700.
func TestFileStorageModes(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	ctx := t.Context()
	root := filepath.Join(t.TempDir(), "state")
	s := tlsmgr.NewFileStorage(root)

	// A file left world-readable by an older version is replaced by a 0600 one.
	require.NoError(t, os.MkdirAll(filepath.Join(root, "accounts"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(root, "accounts", "a.json"), []byte("old"), 0o644))
	for _, k := range []string{"certificates/ca/nats.example.com.json", "privateca/root.json", "accounts/a.json"} {
		require.NoError(t, s.Store(ctx, k, []byte("secret")))
	}
	require.NoError(t, s.Lock(ctx, "issue/nats.example.com"))
	t.Cleanup(func() { _ = s.Unlock(context.Background(), "issue/nats.example.com") })

	seen := 0
	require.NoError(t, filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		fi, err := d.Info()
		require.NoError(t, err)
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = fs.ModeDir | 0o700
		}
		require.Equal(t, want, fi.Mode(), name)
		seen++
		return nil
	}))
	// root, 5 directories (accounts, certificates, certificates/ca,
	// privateca, locks, locks/issue), 3 values and 1 lock file.
	require.Equal(t, 11, seen)
}

// TestFileStorageAtomicOverwrite checks that Store leaves no temporary file
// and that List skips one left by a crash.
func TestFileStorageAtomicOverwrite(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	s := tlsmgr.NewFileStorage(root)
	for _, v := range []string{"one", "two"} {
		require.NoError(t, s.Store(ctx, "certs/x.json", []byte(v)))
	}
	entries, err := os.ReadDir(filepath.Join(root, "certs"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "x.json", entries[0].Name())

	crashed := filepath.Join(root, "certs", ".x.json.tmp-12345")
	require.NoError(t, os.WriteFile(crashed, []byte("tw"), 0o600))
	for _, recursive := range []bool{false, true} {
		got, err := s.List(ctx, "certs", recursive)
		require.NoError(t, err)
		require.Equal(t, []string{"certs/x.json"}, got)
	}
	got, err := s.Load(ctx, "certs/x.json")
	require.NoError(t, err)
	require.Equal(t, "two", string(got))
}

// TestFileStorageNoEscape checks that rejected keys write nothing outside
// (or inside) the root.
func TestFileStorageNoEscape(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	s := tlsmgr.NewFileStorage(root)
	for _, key := range []string{"../escaped", "a/../../escaped", "/" + filepath.Join(parent, "escaped")} {
		err := s.Store(t.Context(), key, []byte("x"))
		var ke *tlsmgr.InvalidKeyError
		require.ErrorAs(t, err, &ke, key)
	}
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Empty(t, entries)
}

func TestFileStorageEmptyDir(t *testing.T) {
	s := tlsmgr.NewFileStorage("")
	_, err := s.Load(t.Context(), "x")
	require.ErrorContains(t, err, "pass one to NewFileStorage")
	require.ErrorContains(t, s.Lock(t.Context(), "x"), "pass one to NewFileStorage")
}

// readLockFile decodes a lock file as another process would see it.
func readLockFile(t *testing.T, root, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "locks", name+".lock"))
	require.NoError(t, err)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(data, &rec))
	return rec
}

// TestFileStorageLockFile checks the lock file a holder writes, its
// renewal, and its removal on Unlock.
func TestFileStorageLockFile(t *testing.T) {
	root := t.TempDir()
	s := tlsmgr.NewFileStorage(root, tlsmgr.WithLockLease(fileLease))
	require.NoError(t, s.Lock(t.Context(), "issue/x"))
	first := readLockFile(t, root, "issue/x")
	require.Regexp(t, `^\d+-[0-9a-f]{16}$`, first["holder"])
	require.Contains(t, first, "created")
	require.Contains(t, first, "expires")

	require.Eventually(t, func() bool {
		return readLockFile(t, root, "issue/x")["expires"] != first["expires"]
	}, 5*time.Second, fileLease/10, "the holder renews its lease")
	renewed := readLockFile(t, root, "issue/x")
	require.Equal(t, first["holder"], renewed["holder"])
	require.Equal(t, first["created"], renewed["created"])

	require.NoError(t, s.Unlock(t.Context(), "issue/x"))
	_, err := os.Stat(filepath.Join(root, "locks", "issue", "x.lock"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// TestFileStorageLeaseRenewal holds a lock for three leases: a waiter
// bounded by that time never gets it, because the holder keeps renewing.
func TestFileStorageLeaseRenewal(t *testing.T) {
	root := t.TempDir()
	holder := tlsmgr.NewFileStorage(root, tlsmgr.WithLockLease(fileLease))
	waiter := tlsmgr.NewFileStorage(root, tlsmgr.WithLockLease(fileLease))
	require.NoError(t, holder.Lock(t.Context(), "x"))

	ctx, cancel := context.WithTimeout(t.Context(), 3*fileLease)
	defer cancel()
	require.ErrorIs(t, waiter.Lock(ctx, "x"), context.DeadlineExceeded)

	require.NoError(t, holder.Unlock(t.Context(), "x"))
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, waiter.Lock(ctx, "x"))
	require.NoError(t, waiter.Unlock(ctx, "x"))
}

// TestFileStorageStaleLockFiles checks takeover of lock files left by dead
// holders, and respect for one being written.
func TestFileStorageStaleLockFiles(t *testing.T) {
	expired, _ := json.Marshal(map[string]any{
		"holder": "1-dead", "created": time.Now().Add(-time.Hour), "expires": time.Now().Add(-time.Minute),
	})
	live, _ := json.Marshal(map[string]any{
		"holder": "1-live", "created": time.Now(), "expires": time.Now().Add(fileLease),
	})
	// A dead holder whose clock was an hour fast, or a clock stepped back:
	// no live holder writes an expiry further ahead than a lease.
	farAhead, _ := json.Marshal(map[string]any{
		"holder": "1-dead", "created": time.Now().Add(time.Hour), "expires": time.Now().Add(time.Hour + fileLease),
	})
	tests := []struct {
		name     string
		content  []byte
		age      time.Duration
		takeOver bool
	}{
		{"expired record", expired, 0, true},
		{"unreadable and old", []byte("{trunc"), time.Hour, true},
		{"unreadable and fresh (being written)", []byte(""), 0, false},
		{"live record", live, 0, false},
		{"expiry an hour ahead", farAhead, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			path := filepath.Join(root, "locks", "x.lock")
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
			require.NoError(t, os.WriteFile(path, tc.content, 0o600))
			mtime := time.Now().Add(-tc.age)
			require.NoError(t, os.Chtimes(path, mtime, mtime))

			s := tlsmgr.NewFileStorage(root, tlsmgr.WithLockLease(fileLease))
			// Shorter than a lease: an unreadable lock file is respected
			// for a lease after it was last written.
			ctx, cancel := context.WithTimeout(t.Context(), fileLease/2)
			defer cancel()
			err := s.Lock(ctx, "x")
			if !tc.takeOver {
				require.ErrorIs(t, err, context.DeadlineExceeded)
				return
			}
			require.NoError(t, err)
			require.NotEqual(t, "1-dead", readLockFile(t, root, "x")["holder"])
			require.NoError(t, s.Unlock(ctx, "x"))
		})
	}
}

// TestFileStorageUnlockLostLease checks that a holder whose lock was taken
// over reports it on Unlock and leaves the new holder's file alone.
func TestFileStorageUnlockLostLease(t *testing.T) {
	root := t.TempDir()
	s := tlsmgr.NewFileStorage(root, tlsmgr.WithLockLease(fileLease))
	require.NoError(t, s.Lock(t.Context(), "x"))
	other, _ := json.Marshal(map[string]any{
		"holder": "1-other", "created": time.Now(), "expires": time.Now().Add(time.Hour),
	})
	path := filepath.Join(root, "locks", "x.lock")
	require.NoError(t, os.WriteFile(path, other, 0o600))

	require.ErrorContains(t, s.Unlock(t.Context(), "x"), "lease lost")
	require.Equal(t, "1-other", readLockFile(t, root, "x")["holder"])
}

// TestFileStorageStaleTakeoverOneWinner lets several FileStorage values
// compete for a lock left expired by a dead holder: they all get it in
// turn, never two at once.
func TestFileStorageStaleTakeoverOneWinner(t *testing.T) {
	root := t.TempDir()
	expired, _ := json.Marshal(map[string]any{
		"holder": "1-dead", "created": time.Now().Add(-time.Hour), "expires": time.Now().Add(-time.Minute),
	})
	path := filepath.Join(root, "locks", "x.lock")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	require.NoError(t, os.WriteFile(path, expired, 0o600))

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var holders, maxHolders atomic.Int32
	errs := make(chan error, 8)
	for range cap(errs) {
		s := tlsmgr.NewFileStorage(root, tlsmgr.WithLockLease(fileLease))
		go func() {
			if err := s.Lock(ctx, "x"); err != nil {
				errs <- err
				return
			}
			n := holders.Add(1)
			for m := maxHolders.Load(); n > m && !maxHolders.CompareAndSwap(m, n); m = maxHolders.Load() {
			}
			// Hold the lock across a file system round trip so that an
			// overlapping holder would be seen.
			_, err := os.ReadFile(path)
			holders.Add(-1)
			errs <- errors.Join(err, s.Unlock(ctx, "x"))
		}()
	}
	for range cap(errs) {
		require.NoError(t, <-errs)
	}
	require.Equal(t, int32(1), maxHolders.Load())
}
