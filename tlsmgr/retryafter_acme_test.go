package tlsmgr_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestRetryAfterFromPebbleHonouredAcrossRestarts (issue 12, fault 3): the
// CA answers newOrder with 429 or 503 and a Retry-After, or one too large
// to represent. The Manager waits until then (at most MaxRetryAfter),
// restarts without a certificate do not order again before it (before the
// change each start ordered once), and the first attempt after it succeeds.
func TestRetryAfterFromPebbleHonouredAcrossRestarts(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		wait       time.Duration
	}{
		{"429 for an hour", 429, "3600", time.Hour},
		{"503 for ten minutes", 503, "600", 10 * time.Minute},
		{"429 overflowing", 429, "99999999999999", tlsmgr.MaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := acmetest.New(t, acmetest.Options{})
			remove := ca.Inject(acmetest.Fault{Path: acmetest.NewOrderPath, Kind: acmetest.FaultStatus, Status: tt.status, RetryAfter: tt.retryAfter})
			storage := tlsmgr.NewFileStorage(t.TempDir())
			clock := newClock()
			name := fmt.Sprintf("retry-%d-%d.example.test", tt.status, time.Now().UnixNano())
			events := newEventLog()
			cfg := func() tlsmgr.Config {
				return tlsmgr.Config{Names: []string{name}, Issuer: acmeIssuer(t, ca, storage), Storage: storage,
					Clock: clock, StartInBackground: true, OnEvent: events.add}
			}
			first, err := tlsmgr.New(cfg())
			require.NoError(t, err)
			start := clock.Now()
			require.NoError(t, first.Start(testCtx(t)))
			events.waitRole(t, tlsmgr.EventFailed, tlsmgr.RoleClient)
			retryAt := first.Status()[0].NextRenewal
			require.WithinDuration(t, start.Add(tt.wait), retryAt, 10*time.Second, "next attempt")
			require.NoError(t, first.Close())
			require.Len(t, ca.Requests(acmetest.NewOrderPath), 1)

			for range 3 {
				m, err := tlsmgr.New(cfg())
				require.NoError(t, err)
				require.NoError(t, m.Start(testCtx(t)))
				require.WithinDuration(t, retryAt, nextTimers(t, clock, 2), time.Millisecond, "the next attempt after a restart")
				require.NoError(t, m.Close())
			}
			require.Len(t, ca.Requests(acmetest.NewOrderPath), 1, "newOrder requests the CA received")

			remove()
			m := startManager(t, cfg())
			clock.Set(retryAt.Add(time.Millisecond)) // past the timer's deadline, whatever the monotonic readings
			t.Cleanup(func() {
				if t.Failed() {
					events.mu.Lock()
					for _, ev := range events.events {
						t.Logf("%s %v %v %v", ev.Type, ev.Roles, ev.Reason, ev.Err)
					}
					events.mu.Unlock()
				}
			})
			events.waitRole(t, tlsmgr.EventObtained, tlsmgr.RoleClient)
			tlsCfg, err := m.TLSConfig(tlsmgr.RoleClient)
			require.NoError(t, err)
			servedLeaf(t, serve(t, tlsCfg), ca.Roots(t), name)
			require.Len(t, ca.Requests(acmetest.NewOrderPath), 2)
		})
	}
}
