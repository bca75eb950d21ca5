package reload_test

import (
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/reload"
)

// TestSidecarSignalRefusesPID: a pid that cannot be the nats-server of
// another process (the sidecar's own, or 1 and below, as a pid file from
// another pid namespace often holds) is refused with an error naming the
// file and the value, and no signal is sent. SIGHUP is caught during the
// test so that a regression fails it instead of ending the test process.
func TestSidecarSignalRefusesPID(t *testing.T) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	t.Cleanup(func() { signal.Stop(hup) })

	for _, tc := range []struct {
		name, content string
	}{
		{"own pid", strconv.Itoa(os.Getpid())},
		{"init", "1"},
		{"zero", "0"},
		{"process group", "-42"},
		{"not a number", "nats"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "nats.pid")
			require.NoError(t, os.WriteFile(pidFile, []byte(tc.content), 0o600))
			sc := &reload.Sidecar{PIDFile: pidFile}
			err := sc.Signal()
			require.Error(t, err)
			require.Contains(t, err.Error(), pidFile)
			require.Contains(t, err.Error(), tc.content)
			select {
			case <-hup:
				t.Fatal("the sidecar signalled itself")
			default:
			}
		})
	}
	t.Run("PID field", func(t *testing.T) {
		err := (&reload.Sidecar{PID: 1}).Signal()
		require.ErrorContains(t, err, "Sidecar.PID holds 1")
	})
}
