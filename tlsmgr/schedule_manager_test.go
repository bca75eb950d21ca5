package tlsmgr_test

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/fakeclock"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestRetryAfterSurvivesRestartWithoutCertificate (issue 12, fault 3): the
// CA answers the first order for the public roles with a rate limit and
// Retry-After of an hour. A restart, with no certificate stored for them,
// must not order again before that hour.
func TestRetryAfterSurvivesRestartWithoutCertificate(t *testing.T) {
	clock := newClock()
	storage := tlsmgr.NewMemoryStorage()
	ca := newCA(t, clock, 0)
	pub := publicIssuer(t, "acme-limited")
	retryAt := clock.Now().Add(time.Hour)
	pub.failNext(&rateLimitError{at: retryAt})
	events := newEventLog()
	cfg := tlsmgr.Config{PrivateCA: ca, Issuer: pub, Storage: storage, Clock: clock, StartInBackground: true, OnEvent: events.add}
	first, err := tlsmgr.New(cfg)
	require.NoError(t, err)
	require.NoError(t, first.Start(testCtx(t)))
	events.wait(t, tlsmgr.EventFailed)
	st := first.Status()[0]
	require.WithinDuration(t, retryAt, st.NextRenewal, 0)
	require.WithinDuration(t, retryAt, st.RetryAfter, 0)
	require.NoError(t, first.Close())

	for range 3 { // three restarts in a row
		m, err := tlsmgr.New(cfg)
		require.NoError(t, err)
		require.NoError(t, m.Start(testCtx(t)))
		require.WithinDuration(t, retryAt, nextTimers(t, clock, 2), 0, "the next attempt is the Retry-After")
		st := m.Status()[0]
		require.Equal(t, 1, st.Failures)
		require.WithinDuration(t, retryAt, st.NextRenewal, 0)
		require.NoError(t, m.Close())
	}
	require.Equal(t, int32(1), pub.orders.Load(), "orders the CA received")

	m := startManager(t, cfg)
	clock.Set(retryAt)
	events.waitRole(t, tlsmgr.EventObtained, tlsmgr.RoleClient)
	_, _, err = m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.Equal(t, int32(2), pub.orders.Load())
	keys, err := storage.List(testCtx(t), "renewal", true)
	if !errors.Is(err, fs.ErrNotExist) {
		require.NoError(t, err)
	}
	require.Empty(t, keys, "the failure state is removed after a success")
}

// TestRecoveryAfterOutageWithoutCertificate (issue 12, fault 2): the CA is
// down for three hours while the public roles have no certificate. Once it
// is back, the next attempt comes within minutes, not after the 1000-min
// or daily backoff.
func TestRecoveryAfterOutageWithoutCertificate(t *testing.T) {
	clock := newClock()
	pub := publicIssuer(t, "acme-down")
	down := make([]error, 200)
	for i := range down {
		down[i] = errCADown
	}
	pub.failNext(down...)
	events := newEventLog()
	start := clock.Now()
	startManager(t, tlsmgr.Config{PrivateCA: newCA(t, clock, 0), Issuer: pub, Storage: tlsmgr.NewMemoryStorage(),
		Clock: clock, StartInBackground: true, OnEvent: events.add})
	events.wait(t, tlsmgr.EventFailed)
	for clock.Now().Before(start.Add(3 * time.Hour)) {
		next := nextTimers(t, clock, 2)
		require.LessOrEqual(t, next.Sub(clock.Now()), 5*time.Minute+30*time.Second, "wait after a failure at %v", clock.Now().Sub(start))
		clock.Set(next)
		events.wait(t, tlsmgr.EventFailed)
	}
	pub.mu.Lock()
	pub.failures = nil // the CA is back
	pub.mu.Unlock()
	back := clock.Now()
	next := nextTimers(t, clock, 2)
	require.LessOrEqual(t, next.Sub(back), 5*time.Minute+30*time.Second)
	clock.Set(next)
	events.waitRole(t, tlsmgr.EventObtained, tlsmgr.RoleClient)
}

// nextTimers waits until n timers are armed (one per certificate slot) and
// returns the earliest deadline.
func nextTimers(t *testing.T, clock *fakeclock.Clock, n int) time.Time {
	t.Helper()
	require.NoError(t, clock.WaitTimers(testCtx(t), n))
	at, ok := clock.Next()
	require.True(t, ok)
	return at
}

// waitRole returns the next event of type typ for the certificate of role.
func (l *eventLog) waitRole(t testing.TB, typ tlsmgr.EventType, role tlsmgr.Role) tlsmgr.Event {
	t.Helper()
	for {
		if ev := l.wait(t, typ); slices.Contains(ev.Roles, role) {
			return ev
		}
	}
}
