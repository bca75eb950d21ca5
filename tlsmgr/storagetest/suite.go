package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// NewPair returns two views of one new, empty store, each an independent
// client where the implementation allows it (two FileStorage values on one
// directory, two network clients of one bucket), or the same value twice
// (MemoryStorage). It is called once per subtest, with that subtest's t, so
// that it can register its cleanup with t.Cleanup.
type NewPair func(t *testing.T) (a, b tlsmgr.Storage)

// Run checks, in one subtest per behaviour, what every [tlsmgr.Storage]
// must do: values round-trip between the two views, missing keys match
// [io/fs.ErrNotExist], invalid keys fail with a [*tlsmgr.InvalidKeyError],
// List, Stat and Delete treat slash-separated keys as a tree whose values
// cannot also be directories, concurrent Stores are atomic, and locks
// exclude each other, are independent by name, honour their context and
// refuse to unlock what is not held.
//
// Each subtest starts from a new store made by newPair. Run takes a few
// seconds at most (its longest wait is a 300 ms refused Lock).
func Run(t *testing.T, newPair NewPair) {
	tests := []struct {
		name string
		run  func(t *testing.T, a, b tlsmgr.Storage)
	}{
		{"StoreLoadOverwrite", testStoreLoadOverwrite},
		{"MissingKey", testMissingKey},
		{"InvalidKeys", testInvalidKeys},
		{"ListStatDelete", testListStatDelete},
		{"ValueDirectoryConflict", testValueDirectoryConflict},
		{"ConcurrentStoreIsAtomic", testConcurrentStoreIsAtomic},
		{"LockExcludes", testLockExcludes},
		{"LockNamesIndependent", testLockNamesIndependent},
		{"LockCancelled", testLockCancelled},
		{"UnlockNotHeld", testUnlockNotHeld},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newPair(t)
			tc.run(t, a, b)
		})
	}
}

func testStoreLoadOverwrite(t *testing.T, a, b tlsmgr.Storage) {
	ctx := t.Context()
	for _, v := range [][]byte{[]byte("first"), {}, []byte("third, longer than the others")} {
		require.NoError(t, a.Store(ctx, "certificates/ca/nats.example.com.json", v))
		got, err := b.Load(ctx, "certificates/ca/nats.example.com.json")
		require.NoError(t, err)
		require.Equal(t, string(v), string(got))
	}
}

func testMissingKey(t *testing.T, a, _ tlsmgr.Storage) {
	ctx := t.Context()
	keys, err := a.List(ctx, "", true)
	require.NoError(t, err, "an empty store lists an empty root")
	require.Empty(t, keys)
	_, err = a.Load(ctx, "certificates/none.json")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = a.Stat(ctx, "certificates/none.json")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = a.List(ctx, "certificates", false)
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.NoError(t, a.Delete(ctx, "certificates/none.json"))
}

func testInvalidKeys(t *testing.T, a, _ tlsmgr.Storage) {
	ctx := t.Context()
	for _, key := range []string{"", "/etc/passwd", "../escape", "a/../../escape", "a//b", "a/./b", "a/", `a\b`} {
		t.Run(key, func(t *testing.T) {
			ops := map[string]error{
				"Store":  a.Store(ctx, key, []byte("x")),
				"Delete": a.Delete(ctx, key),
				"Lock":   a.Lock(ctx, key),
			}
			_, ops["Load"] = a.Load(ctx, key)
			_, ops["Stat"] = a.Stat(ctx, key)
			if key != "" {
				_, ops["List"] = a.List(ctx, key, true)
			}
			for op, err := range ops {
				var ke *tlsmgr.InvalidKeyError
				require.ErrorAs(t, err, &ke, op)
				require.Equal(t, key, ke.Key, op)
				require.Contains(t, err.Error(), fmt.Sprintf("%q", key), op)
			}
		})
	}
}

func testListStatDelete(t *testing.T, a, b tlsmgr.Storage) {
	ctx := t.Context()
	for _, k := range []string{"certs/a/cert.json", "certs/a/key.pem", "certs/b.json", "accounts/x.json"} {
		require.NoError(t, a.Store(ctx, k, []byte(k)))
	}
	got, err := b.List(ctx, "certs", false)
	require.NoError(t, err)
	require.Equal(t, []string{"certs/a", "certs/b.json"}, got)
	got, err = b.List(ctx, "certs", true)
	require.NoError(t, err)
	require.Equal(t, []string{"certs/a/cert.json", "certs/a/key.pem", "certs/b.json"}, got)
	got, err = b.List(ctx, "", false)
	require.NoError(t, err)
	require.Equal(t, []string{"accounts", "certs"}, got)

	dir, err := b.Stat(ctx, "certs/a")
	require.NoError(t, err)
	require.Equal(t, tlsmgr.KeyInfo{Key: "certs/a", Modified: dir.Modified}, dir)
	file, err := b.Stat(ctx, "certs/b.json")
	require.NoError(t, err)
	require.True(t, file.IsTerminal)
	require.Equal(t, int64(len("certs/b.json")), file.Size)
	require.WithinDuration(t, time.Now(), file.Modified, time.Minute)

	require.NoError(t, a.Delete(ctx, "certs/a"))
	_, err = b.Load(ctx, "certs/a/cert.json")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = b.Stat(ctx, "certs/a")
	require.ErrorIs(t, err, fs.ErrNotExist)
	got, err = b.List(ctx, "", true)
	require.NoError(t, err)
	require.Equal(t, []string{"accounts/x.json", "certs/b.json"}, got)
}

func testValueDirectoryConflict(t *testing.T, a, _ tlsmgr.Storage) {
	ctx := t.Context()
	require.NoError(t, a.Store(ctx, "a/b", []byte("v")))
	require.Error(t, a.Store(ctx, "a/b/c", []byte("v")), "value used as a directory")
	require.Error(t, a.Store(ctx, "a", []byte("v")), "directory overwritten by a value")
	_, err := a.List(ctx, "a/b", false)
	require.Error(t, err, "value listed as a directory")
	got, err := a.Load(ctx, "a/b")
	require.NoError(t, err)
	require.Equal(t, "v", string(got))
}

// testConcurrentStoreIsAtomic overwrites one key from several goroutines
// while others read it: every read sees one whole value.
func testConcurrentStoreIsAtomic(t *testing.T, a, b tlsmgr.Storage) {
	ctx := t.Context()
	const key = "certificates/race.json"
	values := make([][]byte, 4)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte('a' + i)}, 64<<10)
	}
	require.NoError(t, a.Store(ctx, key, values[0]))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i, v := range values {
		st := []tlsmgr.Storage{a, b}[i%2]
		wg.Go(func() {
			for range 5 {
				errs <- st.Store(ctx, key, v)
				got, err := st.Load(ctx, key)
				errs <- err
				if err == nil && !isOneOf(values, got) {
					errs <- fmt.Errorf("torn read of %d bytes starting %q", len(got), got[:min(len(got), 8)])
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// isOneOf reports whether got is one of values.
func isOneOf(values [][]byte, got []byte) bool {
	for _, v := range values {
		if bytes.Equal(v, got) {
			return true
		}
	}
	return false
}

// testLockExcludes holds a lock in a, checks that b cannot take it, then
// releases it while b waits and checks that b gets it.
func testLockExcludes(t *testing.T, a, b tlsmgr.Storage) {
	ctx := t.Context()
	require.NoError(t, a.Lock(ctx, "issue/nats.example.com"))

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, b.Lock(short, "issue/nats.example.com"), context.DeadlineExceeded)

	var unlocking atomic.Bool // set just before a releases the lock
	got := make(chan error, 1)
	go func() {
		err := b.Lock(ctx, "issue/nats.example.com")
		if err == nil && !unlocking.Load() {
			err = errors.New("b took the lock before a released it")
		}
		got <- err
	}()
	unlocking.Store(true)
	require.NoError(t, a.Unlock(ctx, "issue/nats.example.com"))
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("b did not get the lock within 10 s of its release")
	}
	require.NoError(t, b.Unlock(ctx, "issue/nats.example.com"))
}

func testLockNamesIndependent(t *testing.T, a, b tlsmgr.Storage) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, a.Lock(ctx, "one"))
	require.NoError(t, b.Lock(ctx, "two"))
	require.NoError(t, b.Unlock(ctx, "two"))
	require.NoError(t, a.Unlock(ctx, "one"))
	// Released locks can be taken again at once.
	require.NoError(t, b.Lock(ctx, "one"))
	require.NoError(t, b.Unlock(ctx, "one"))
}

func testLockCancelled(t *testing.T, a, b tlsmgr.Storage) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, b.Lock(ctx, "free"), context.Canceled, "free lock, cancelled context")
	require.NoError(t, a.Lock(t.Context(), "free"), "a cancelled Lock leaves the lock free")
	require.NoError(t, a.Unlock(t.Context(), "free"))

	require.NoError(t, a.Lock(t.Context(), "x"))
	t.Cleanup(func() { _ = a.Unlock(context.Background(), "x") })
	waiting, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.Lock(waiting, "x") }()
	stop()
	require.ErrorIs(t, <-done, context.Canceled, "held lock, context cancelled while waiting")
}

func testUnlockNotHeld(t *testing.T, a, _ tlsmgr.Storage) {
	require.Error(t, a.Unlock(t.Context(), "never-locked"))
}
