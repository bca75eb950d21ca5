package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// watchWait bounds how long a change may take to be reported.
const watchWait = 5 * time.Second

// RunWatcher checks, in one subtest per behaviour, what a Storage that is
// also a [tlsmgr.Watcher] must do: a value stored or deleted through one
// view is reported to a watch opened on the other, a watch sees only its
// prefix, and the channel closes when the watch's context ends. newPair
// must return Storages that implement tlsmgr.Watcher.
func RunWatcher(t *testing.T, newPair NewPair) {
	tests := []struct {
		name string
		run  func(t *testing.T, a tlsmgr.Watcher, b tlsmgr.Storage)
	}{
		{"StoreAndDeleteReported", testWatchStoreDelete},
		{"PrefixFilters", testWatchPrefix},
		{"ClosesWithContext", testWatchCloses},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newPair(t)
			w, ok := a.(tlsmgr.Watcher)
			require.True(t, ok, "%T is not a tlsmgr.Watcher", a)
			tc.run(t, w, b)
		})
	}
}

// next returns the next key reported on ch, failing after watchWait.
func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case k, ok := <-ch:
		require.True(t, ok, "watch channel closed")
		return k
	case <-time.After(watchWait):
		t.Fatalf("no change reported within %v", watchWait)
		return ""
	}
}

func testWatchStoreDelete(t *testing.T, a tlsmgr.Watcher, b tlsmgr.Storage) {
	ch, err := a.Watch(t.Context(), "certificates")
	require.NoError(t, err)
	const key = "certificates/ca/nats.example.com.json"
	require.NoError(t, b.Store(t.Context(), key, []byte("v1")))
	require.Equal(t, key, next(t, ch))
	require.NoError(t, b.Delete(t.Context(), key))
	require.Equal(t, key, next(t, ch), "a delete is reported too")
}

func testWatchPrefix(t *testing.T, a tlsmgr.Watcher, b tlsmgr.Storage) {
	ch, err := a.Watch(t.Context(), "certificates")
	require.NoError(t, err)
	require.NoError(t, b.Store(t.Context(), "acme/account.json", []byte("x")))
	require.NoError(t, b.Store(t.Context(), "certificates/ca/a.json", []byte("x")))
	require.Equal(t, "certificates/ca/a.json", next(t, ch), "keys outside the prefix are not reported")
}

func testWatchCloses(t *testing.T, a tlsmgr.Watcher, _ tlsmgr.Storage) {
	ctx, cancel := context.WithCancel(t.Context())
	ch, err := a.Watch(ctx, "")
	require.NoError(t, err)
	cancel()
	select {
	case _, ok := <-ch:
		for ok {
			_, ok = <-ch
		}
	case <-time.After(watchWait):
		t.Fatal("the channel did not close when the context ended")
	}
}
