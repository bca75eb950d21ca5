package metrics_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/tlsmgr/metrics"
)

// FailureReason knows the acme package's errors by name (so that this
// package does not import lego): this keeps the names in step.
func TestFailureReasonOfACMEErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"rate limited": {&acme.RateLimitError{Detail: "too many"}, metrics.ReasonRateLimited},
		"validation":   {&acme.ValidationError{Name: "a.example", Detail: "no TXT"}, metrics.ReasonChallenge},
		"unreachable":  {&acme.UnreachableError{URL: "https://ca.example/dir", Err: errors.New("refused")}, metrics.ReasonUnreachable},
		"config":       {&acme.ConfigError{Field: "Profile", Value: "x", Fix: "use classic"}, metrics.ReasonConfig},
	} {
		t.Run(name, func(t *testing.T) {
			err := fmt.Errorf("tlsmgr: issue from acme-x: %w", tc.err)
			require.Equal(t, tc.want, metrics.FailureReason(err))
		})
	}
}
