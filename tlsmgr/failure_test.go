package tlsmgr_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// TestFailedEventCarriesTheMetricsReason: a failed renewal is one log line
// with the failure class the metrics count it under.
func TestFailedEventCarriesTheMetricsReason(t *testing.T) {
	clock := newClock()
	ti := &testIssuer{RootsIssuer: newCA(t, clock, 0)}
	var logs logBuffer
	events := newEventLog()
	m := startManager(t, tlsmgr.Config{PrivateCA: ti, Clock: clock, Storage: tlsmgr.NewMemoryStorage(), Logger: logs.logger(), OnEvent: events.add})
	ti.failNext(&rateLimitError{at: clock.Now().Add(time.Hour)})
	require.Error(t, m.Renew(testCtx(t), tlsmgr.RoleClient))
	ev := events.wait(t, tlsmgr.EventFailed)
	require.Equal(t, tlsmgr.FailureRateLimited, ev.Failure)
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "certificate failed") {
			line = l
		}
	}
	require.Contains(t, line, "failure=rate_limited")
	require.Contains(t, line, "roles=")
	require.Contains(t, line, "issuer=")
}

func TestFailureReason(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"nil":       {nil, ""},
		"deadline":  {fmt.Errorf("tlsmgr: issue from x: %w", context.DeadlineExceeded), tlsmgr.FailureTimeout},
		"closed":    {fmt.Errorf("renew: %w", tlsmgr.ErrClosed), tlsmgr.FailureCanceled},
		"retry":     {fmt.Errorf("tlsmgr: issue from x: %w", &rateLimitError{at: time.Now()}), tlsmgr.FailureRateLimited},
		"invalid":   {fmt.Errorf("wrapped: %w", &tlsmgr.ValidationError{Reason: "bad"}), tlsmgr.FailureInvalid},
		"fallback":  {&tlsmgr.FallbackError{Errs: []error{errors.New("a"), &tlsmgr.ValidationError{Reason: "b"}}}, tlsmgr.FailureInvalid},
		"something": {errors.New("boom"), tlsmgr.FailureOther},
	} {
		t.Run(name, func(t *testing.T) { require.Equal(t, tc.want, tlsmgr.FailureReason(tc.err)) })
	}
}
