package tlsmgr_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
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
	require.Less(t, took, killLease/4, "a holder on this host that exited is seen at once, not after its lease")
	require.NoError(t, s.Unlock(ctx, "x"))
}

// TestLockWaiterLogsHolder (issue 12, fault 6): a waiter logs, when it
// starts waiting and then every lease, who holds the lock and until when.
func TestLockWaiterLogsHolder(t *testing.T) {
	dir := t.TempDir()
	const lease = 200 * time.Millisecond
	holder := tlsmgr.NewFileStorage(dir, tlsmgr.WithLockLease(lease))
	require.NoError(t, holder.Lock(t.Context(), "x"))
	rec := readLockFile(t, dir, "x")

	lines := make(chan string, 100)
	waiter := tlsmgr.NewFileStorage(dir, tlsmgr.WithLockLease(lease), tlsmgr.WithStorageLogger(slog.New(lineHandler{lines})))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	locked := make(chan error, 1)
	go func() { locked <- waiter.Lock(ctx, "x") }()
	for _, want := range []string{"msg=\"waiting for lock\"", "msg=\"still waiting for lock\"", "msg=\"still waiting for lock\""} {
		select {
		case line := <-lines:
			require.Contains(t, line, want)
			require.Contains(t, line, "holder="+rec["holder"].(string))
			require.Contains(t, line, "until=")
			require.Contains(t, line, "host=")
		case <-ctx.Done():
			t.Fatalf("no %s line", want)
		}
	}
	require.NoError(t, holder.Unlock(ctx, "x"))
	require.NoError(t, <-locked)
	require.NoError(t, waiter.Unlock(ctx, "x"))
}

// lineHandler sends each log record, formatted as text, on a channel.
type lineHandler struct{ lines chan<- string }

func (lineHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h lineHandler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	if err := slog.NewTextHandler(&b, nil).Handle(ctx, r); err != nil {
		return err
	}
	h.lines <- b.String()
	return nil
}
func (h lineHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h lineHandler) WithGroup(string) slog.Handler      { return h }
