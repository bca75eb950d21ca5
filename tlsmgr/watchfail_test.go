package tlsmgr_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// failingWatcher is a storage whose Watch always fails, as kvstorage's
// does while its NATS system is down; calls counts the attempts.
type failingWatcher struct {
	tlsmgr.Storage
	calls chan struct{}
}

func (w failingWatcher) Watch(context.Context, string) (<-chan string, error) {
	select {
	case w.calls <- struct{}{}:
	default:
	}
	return nil, errors.New("NATS connection is down")
}

// While the storage cannot be watched, the Manager warns once and retries
// at debug level, instead of a WARN line every second of an outage.
func TestWatchFailureWarnsOnce(t *testing.T) {
	var logs syncBuffer
	st := failingWatcher{Storage: tlsmgr.NewMemoryStorage(), calls: make(chan struct{}, 1)}
	m, err := tlsmgr.New(tlsmgr.Config{
		Names:   []string{"localhost"},
		Storage: st,
		Logger:  slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, m.Start(ctx))
	defer m.Close()
	for range 3 { // the first attempt and two retries
		select {
		case <-st.calls:
		case <-ctx.Done():
			t.Fatal("Watch was not retried")
		}
	}
	m.Close()
	var warns, debugs int
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, "watch storage") {
			continue
		}
		switch {
		case strings.Contains(line, "level=WARN"):
			warns++
		case strings.Contains(line, "level=DEBUG"):
			debugs++
		}
	}
	require.Equal(t, 1, warns, logs.String())
	require.GreaterOrEqual(t, debugs, 1, logs.String())
}
