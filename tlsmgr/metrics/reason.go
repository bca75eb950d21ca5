package metrics

import (
	"errors"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// The failure reasons [FailureReason] returns: tlsmgr's failure classes,
// so that a metric's reason label and the Manager's log line agree.
const (
	ReasonRateLimited = tlsmgr.FailureRateLimited // the issuer refused for a rate limit; see Retry-After
	ReasonTimeout     = tlsmgr.FailureTimeout     // a deadline passed
	ReasonCanceled    = tlsmgr.FailureCanceled    // the Manager was closed or the caller gave up
	ReasonInvalid     = tlsmgr.FailureInvalid     // the issued or stored certificate failed validation
	ReasonChallenge   = tlsmgr.FailureChallenge   // the CA could not validate control of a name
	ReasonUnreachable = tlsmgr.FailureUnreachable // the CA could not be reached
	ReasonConfig      = tlsmgr.FailureConfig      // a setting only the CA can judge (profile, EAB) is wrong
	ReasonLock        = tlsmgr.FailureLock        // the storage lock could not be taken
	ReasonStorage     = tlsmgr.FailureStorage     // loading or storing a certificate failed
	ReasonIssuer      = tlsmgr.FailureIssuer      // the issuer failed otherwise
	ReasonOther       = tlsmgr.FailureOther       // none of the above
)

// FailureReason classifies the error of a failed event into one of the
// Reason constants, for a metric label: nil gives "". It is
// [tlsmgr.FailureReason].
func FailureReason(err error) string { return tlsmgr.FailureReason(err) }

// retryAt returns the issuer's Retry-After carried by err, as the Manager
// honours it (an error with a RetryAt() time.Time method).
func retryAt(err error) (time.Time, bool) {
	var ra interface{ RetryAt() time.Time }
	if err != nil && errors.As(err, &ra) {
		return ra.RetryAt(), true
	}
	return time.Time{}, false
}
