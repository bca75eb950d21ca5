package tlsmgr

import (
	"crypto/x509"
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// Renewal reasons, as reported by [CertStatus.RenewalReason].
const (
	ReasonARI           = "ari window"
	ReasonThird         = "1/3 of lifetime remaining"
	ReasonHalfLife      = "half-life"
	ReasonEmergency     = "emergency"
	ReasonRetry         = "retry after failure"
	ReasonMissing       = "missing"
	ReasonIssuerChanged = "issuer changed"
	ReasonForced        = "forced"
)

// Backoff bounds after failures.
const (
	backoffFirst = time.Minute
	backoffMax   = 24 * time.Hour
	shortLife    = 10 * 24 * time.Hour
)

// nextRenewal decides when the certificate leaf (nil if there is none)
// should be renewed, and why.
func nextRenewal(now time.Time, leaf *x509.Certificate, st renewState, issuerChanged bool) (time.Time, string) {
	var at time.Time
	var reason string
	switch {
	case leaf == nil:
		at, reason = now, ReasonMissing
	case issuerChanged:
		at, reason = now, ReasonIssuerChanged
	default:
		at, reason = dueTime(leaf, st)
	}
	if st.Failures > 0 {
		if retry := retryTime(leaf, st); retry.After(at) {
			at, reason = retry, ReasonRetry
		}
	}
	// A certificate that is due as soon as it is issued must not make the
	// loop order again at once, forever.
	if floor := st.Issued.Add(backoffFirst); !st.Issued.IsZero() && at.Before(floor) {
		at = floor
	}
	return at, reason
}

// dueTime is when a healthy certificate should be renewed: at the time
// chosen in the issuer's window if it advised one, else at a fixed share of
// the lifetime, and in any case before only 1/20 of the lifetime remains.
func dueTime(leaf *x509.Certificate, st renewState) (time.Time, string) {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	emergency := leaf.NotAfter.Add(-life / 20)
	at, reason := fallbackTime(leaf)
	if hasWindow(st) && !st.ARIChosen.IsZero() {
		at, reason = st.ARIChosen, ReasonARI
	}
	if at.After(emergency) {
		at, reason = emergency, ReasonEmergency
	}
	return at, reason
}

// fallbackTime renews when 1/3 of the lifetime remains (1/2 for lifetimes
// under 10 days), spread by a jitter fixed per certificate.
func fallbackTime(leaf *x509.Certificate) (time.Time, string) {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	at, reason := leaf.NotAfter.Add(-life/3), ReasonThird
	if life < shortLife {
		at, reason = leaf.NotAfter.Add(-life/2), ReasonHalfLife
	}
	return at.Add(jitter(leaf, life)), reason
}

// jitter returns an offset in ±min(life/100, 1h) derived from the serial
// number, so that a fleet does not renew in the same second, while one
// certificate always gets the same time.
func jitter(leaf *x509.Certificate, life time.Duration) time.Duration {
	span := min(life/100, time.Hour)
	if span <= 0 {
		return 0
	}
	h := fnv.New64a()
	if leaf.SerialNumber != nil {
		h.Write(leaf.SerialNumber.Bytes())
	}
	return time.Duration(h.Sum64()%uint64(2*span+1)) - span
}

// retryTime is when to try again after st.Failures consecutive failures:
// 1 min, 10 min, 100 min, ... capped at 24 h; if that would pass the
// certificate's expiry, half the remaining time but at least 1 min (once it
// has expired, the plain backoff again, not every minute forever); and
// never before the issuer's Retry-After, even past expiry.
func retryTime(leaf *x509.Certificate, st renewState) time.Time {
	wait := backoff(st.Failures)
	if leaf != nil && st.LastAttempt.Before(leaf.NotAfter) && st.LastAttempt.Add(wait).After(leaf.NotAfter) {
		wait = max(min(wait, leaf.NotAfter.Sub(st.LastAttempt)/2), backoffFirst)
	}
	at := st.LastAttempt.Add(wait)
	if st.RetryAt.After(at) {
		at = st.RetryAt
	}
	return at
}

// backoff returns the wait after n consecutive failures (n >= 1).
func backoff(n int) time.Duration {
	d := backoffFirst
	for i := 1; i < n && d < backoffMax; i++ {
		d *= 10
	}
	return min(d, backoffMax)
}

// hasWindow reports whether st holds usable renewal advice.
func hasWindow(st renewState) bool {
	return !st.ARIStart.IsZero() && st.ARIEnd.After(st.ARIStart)
}

// applyWindow records an advised window. A zero or inverted window clears
// the advice. The chosen time is kept while it stays inside the window, and
// otherwise re-picked uniformly at random in it.
func applyWindow(st *renewState, start, end time.Time) {
	if start.IsZero() || !end.After(start) {
		st.ARIStart, st.ARIEnd, st.ARIChosen = time.Time{}, time.Time{}, time.Time{}
		return
	}
	st.ARIStart, st.ARIEnd = start, end
	if !st.ARIChosen.IsZero() && !st.ARIChosen.Before(start) && st.ARIChosen.Before(end) {
		return
	}
	st.ARIChosen = start.Add(time.Duration(rand.Int64N(int64(end.Sub(start)))))
}

// nextCheckTime is when to ask the issuer again: after interval, or after
// the issuer's retryAfter if that is longer.
func nextCheckTime(now time.Time, interval, retryAfter time.Duration) time.Time {
	return now.Add(max(interval, retryAfter))
}
