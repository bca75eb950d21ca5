package tlsmgr_test

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
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

// TestExpiringCertificateWithCADown (issue 12, fault 2): a 1-hour
// certificate, the CA down from its renewal time on. Before the change the
// attempts ran at 30, 31, 41, 51, 56, 58, 59, 60 min and then not for 24 h,
// while the expired certificate was served without a log line. Now the
// attempts come closer as expiry nears and every few minutes after it, a
// warning is logged in the last twentieth and an error once expired, and
// the CA's return is picked up within minutes.
func TestExpiringCertificateWithCADown(t *testing.T) {
	clock := newClock()
	ti := &testIssuer{RootsIssuer: newCA(t, clock, time.Hour)}
	var logs logBuffer
	events := newEventLog()
	m := startManager(t, tlsmgr.Config{PrivateCA: ti, Clock: clock, Storage: tlsmgr.NewMemoryStorage(),
		Logger: logs.logger(), OnEvent: events.add})
	cur, replaced, err := m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	leaf := cur.Leaf
	cfg, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	addr := serve(t, cfg)

	down := make([]error, 500)
	for i := range down {
		down[i] = errCADown
	}
	ti.failNext(down...)
	var attempts []time.Duration // after NotBefore
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	warnedAt, erroredAt := time.Duration(-1), time.Duration(-1)
	// seen attributes the log lines to the wake-up that wrote them: once
	// the Manager has set its next timer, it has finished with the last.
	seen := func(prev time.Time) {
		if warnedAt < 0 && strings.Contains(logs.String(), "last twentieth of validity") {
			warnedAt = prev.Sub(leaf.NotBefore)
		}
		if erroredAt < 0 && strings.Contains(logs.String(), "level=ERROR msg=\"tlsmgr: serving an expired certificate") {
			erroredAt = prev.Sub(leaf.NotBefore)
		}
	}
	prev := clock.Now()
	for clock.Now().Before(leaf.NotAfter.Add(2 * time.Hour)) {
		next := nextTimer(t, clock)
		seen(prev)
		prev = next
		if len(attempts) > 0 {
			gap := next.Sub(clock.Now())
			left := leaf.NotAfter.Sub(clock.Now())
			require.LessOrEqual(t, gap, max(left/10+left/100, 5*time.Minute+30*time.Second),
				"gap after the attempt at %v", clock.Now().Sub(leaf.NotBefore))
		}
		orders := ti.orders.Load()
		clock.Set(next)
		if !next.Equal(leaf.NotAfter.Add(-life/20)) && !next.Equal(leaf.NotAfter) {
			events.wait(t, tlsmgr.EventFailed) // not a wake-up to report expiry
		}
		if ti.orders.Load() > orders {
			attempts = append(attempts, next.Sub(leaf.NotBefore).Round(time.Second))
		}
	}
	nextTimer(t, clock)
	seen(prev)
	t.Logf("attempts after NotBefore: %v", attempts)
	require.GreaterOrEqual(t, warnedAt, life-life/20, "warning in the last twentieth")
	require.Less(t, warnedAt, life, "warning before expiry")
	require.GreaterOrEqual(t, erroredAt, life, "error once expired")
	require.Less(t, erroredAt, life+time.Minute)
	require.Equal(t, leaf.SerialNumber, servedLeaf(t, addr, nil, "").SerialNumber, "the last certificate is still served")

	ti.mu.Lock()
	ti.failures = nil // the CA is back
	ti.mu.Unlock()
	back := clock.Now()
	next := nextTimer(t, clock)
	require.LessOrEqual(t, next.Sub(back), 5*time.Minute+30*time.Second)
	clock.Set(next)
	<-replaced
	require.NotEqual(t, leaf.SerialNumber, servedLeaf(t, addr, nil, "").SerialNumber, "renewed once the CA is back")
}

// TestManagersSharingStorageBackOffTogether: two Managers share a storage
// and have no certificate for the public roles yet. The first one's order
// is rate limited; the second, which loaded the storage before that, finds
// the stored failure under the lock and waits for the Retry-After instead
// of ordering: the CA receives one order.
func TestManagersSharingStorageBackOffTogether(t *testing.T) {
	storage := tlsmgr.NewMemoryStorage()
	ca := newCA(t, nil, 0)
	pub := publicIssuer(t, "acme-shared")
	pub.gate, pub.entered = make(chan struct{}), make(chan struct{}, 10)
	clockA, clockB := newClock(), newClock()
	retryAt := clockA.Now().Add(time.Hour).Round(0)
	pub.failNext(&rateLimitError{at: retryAt})
	events := newEventLog()
	startManager(t, tlsmgr.Config{PrivateCA: ca, Issuer: pub, Storage: storage, Clock: clockA, StartInBackground: true, OnEvent: events.add})
	<-pub.entered
	b := startManager(t, tlsmgr.Config{PrivateCA: ca, Issuer: pub, Storage: storage, Clock: clockB, StartInBackground: true})
	close(pub.gate)
	events.waitRole(t, tlsmgr.EventFailed, tlsmgr.RoleClient)
	require.WithinDuration(t, retryAt, nextTimers(t, clockB, 2), time.Millisecond, "b's next attempt")
	st := b.Status()[0]
	require.Equal(t, 1, st.Failures)
	require.Contains(t, st.LastError, "rate limited")
	require.Equal(t, int32(1), pub.orders.Load(), "orders the CA received")
}
