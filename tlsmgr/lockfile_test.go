package tlsmgr_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// lockHolderEnv names the storage directory of TestHelperLockHolder; the
// helper only runs when it is set.
const lockHolderEnv = "AUTOTLS_LOCK_HOLDER_DIR"

// killLease is the lock lease in the subprocess test.
const killLease = time.Second

// TestHelperLockHolder is not a test: TestFileStorageLockHolderKilled runs
// the test binary again with only this function, to hold a lock in another
// process. It takes lock "x", prints "locked" and waits for stdin to close.
func TestHelperLockHolder(t *testing.T) {
	dir := os.Getenv(lockHolderEnv)
	if dir == "" {
		t.Skip("helper process for TestFileStorageLockHolderKilled")
	}
	s := tlsmgr.NewFileStorage(dir, tlsmgr.WithLockLease(killLease))
	if err := s.Lock(context.Background(), "x"); err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// TestFileStorageLockHolderKilled kills a process holding a lock with
// SIGKILL, so it cannot release it, and checks that another FileStorage
// takes the lock over within the documented bound of three leases.
func TestFileStorageLockHolderKilled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd, stdout := startHelperProcess(t, ctx, "TestHelperLockHolder", lockHolderEnv, dir)

	line, err := stdout.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)

	s := tlsmgr.NewFileStorage(dir, tlsmgr.WithLockLease(killLease))
	short, cancelShort := context.WithTimeout(ctx, killLease/4)
	defer cancelShort()
	require.ErrorIs(t, s.Lock(short, "x"), context.DeadlineExceeded, "the helper holds the lock")

	require.NoError(t, cmd.Process.Kill())
	killed := time.Now()
	_ = cmd.Wait()

	lockCtx, cancelLock := context.WithTimeout(ctx, 5*time.Second)
	defer cancelLock()
	require.NoError(t, s.Lock(lockCtx, "x"))
	took := time.Since(killed)
	t.Logf("lock taken over %v after SIGKILL (lease %v)", took.Round(time.Millisecond), killLease)
	require.Less(t, took, 3*killLease, "documented takeover bound")
	require.NoError(t, s.Unlock(ctx, "x"))
}
