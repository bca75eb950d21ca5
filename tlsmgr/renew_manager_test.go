package tlsmgr_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/fakeclock"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// nextTimer waits for the renewal loop to arm its timer and returns its
// deadline.
func nextTimer(t *testing.T, clock *fakeclock.Clock) time.Time {
	t.Helper()
	require.NoError(t, clock.WaitTimers(testCtx(t), 1))
	at, ok := clock.Next()
	require.True(t, ok)
	return at
}

func TestBackoffAfterFailures(t *testing.T) {
	clock := newClock()
	ca := newCA(t, clock, 6*24*time.Hour)
	ti := &testIssuer{RootsIssuer: ca}
	events := newEventLog()
	m := startManager(t, tlsmgr.Config{PrivateCA: ti, Clock: clock, Storage: tlsmgr.NewMemoryStorage(), OnEvent: events.add})
	cfg, err := m.TLSConfig(tlsmgr.RoleClient)
	require.NoError(t, err)
	addr := serve(t, cfg)
	good, replaced, err := m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)

	st := m.Status()
	require.Len(t, st, 1)
	require.Equal(t, tlsmgr.ReasonHalfLife, st[0].RenewalReason)
	due := nextTimer(t, clock)
	require.WithinDuration(t, st[0].NextRenewal, due, 0)
	require.WithinDuration(t, good.Leaf.NotBefore.Add(3*24*time.Hour), due, 2*time.Hour)

	retryAt := due.Add(5 * time.Hour)
	ti.failNext(errCADown, errCADown, &rateLimitError{at: retryAt})
	// 1 min, then 10 min (each ±1/10), then the Retry-After (5 h after the
	// first attempt) rather than the 100 min backoff.
	waits := []time.Duration{time.Minute, 10 * time.Minute, 0}
	at := due
	for i, wait := range waits {
		clock.Set(at)
		want, spread := at.Add(wait), wait/10
		if wait == 0 {
			want, spread = retryAt, 0
		}
		ev := events.wait(t, tlsmgr.EventFailed)
		require.Error(t, ev.Err)
		st := m.Status()[0]
		require.Equal(t, i+1, st.Failures)
		require.Equal(t, tlsmgr.ReasonRetry, st.RenewalReason)
		next := nextTimer(t, clock)
		require.WithinDuration(t, want, next, spread, "failure %d", i+1)
		require.Equal(t, good.Leaf.SerialNumber, servedLeaf(t, addr, nil, "").SerialNumber, "the good certificate is served throughout")
		at = next
	}
	clock.Set(at)
	events.wait(t, tlsmgr.EventRenewed)
	<-replaced
	renewed, _, err := m.Current(tlsmgr.RoleClient)
	require.NoError(t, err)
	require.NotEqual(t, good.Leaf.SerialNumber, renewed.Leaf.SerialNumber)
	require.Equal(t, renewed.Leaf.SerialNumber, servedLeaf(t, addr, nil, "").SerialNumber)
	require.Zero(t, m.Status()[0].Failures)
	require.Equal(t, int32(5), ti.orders.Load())
}

func TestStartReportsRolesWithoutCertificate(t *testing.T) {
	ca := newCA(t, nil, 0)
	ti := &testIssuer{RootsIssuer: ca}
	ti.failNext(errCADown)
	events := newEventLog()
	m, err := tlsmgr.New(tlsmgr.Config{PrivateCA: ti, Storage: tlsmgr.NewMemoryStorage(), OnEvent: events.add, Clock: newClock()})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() {
		events.wait(t, tlsmgr.EventFailed)
		cancel()
	}()
	err = m.Start(ctx)
	require.ErrorContains(t, err, "no certificate for roles client,websocket,mqtt,leafnode,leafnode-remote,cluster,gateway (")
	require.ErrorContains(t, err, "CA down")
	require.ErrorIs(t, err, context.Canceled)
	_, _, err = m.Current(tlsmgr.RoleClient)
	require.ErrorIs(t, err, tlsmgr.ErrNoCertificate)
}

func TestRenewNotifiesWatchers(t *testing.T) {
	events := newEventLog()
	m := startManager(t, tlsmgr.Config{Storage: tlsmgr.NewMemoryStorage(), OnEvent: events.add})
	require.Equal(t, tlsmgr.ReasonMissing, events.wait(t, tlsmgr.EventObtaining).Reason)
	first, changed, err := m.Current(tlsmgr.RoleGateway)
	require.NoError(t, err)
	select {
	case <-changed:
		t.Fatal("changed before renewal")
	default:
	}
	require.NoError(t, m.Renew(testCtx(t), tlsmgr.RoleClient))
	<-changed
	require.Equal(t, tlsmgr.ReasonForced, events.wait(t, tlsmgr.EventObtaining).Reason)
	second, _, err := m.Current(tlsmgr.RoleGateway)
	require.NoError(t, err)
	require.NotEqual(t, first.Leaf.SerialNumber, second.Leaf.SerialNumber, "roles sharing the certificate renew together")
}
