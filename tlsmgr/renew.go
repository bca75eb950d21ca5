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
	// expiredRetryMax bounds the wait between attempts while a slot has
	// no certificate or serves an expired one.
	expiredRetryMax = 5 * time.Minute
	// retrySpread is the jitter of a wait after a failure: ±1/10 of it.
	retrySpread = 10
	shortLife   = 10 * 24 * time.Hour
)

// MaxRetryAfter bounds how long an issuer's Retry-After (on a rate limit
// or an unavailable CA) can hold the next attempt back: a later time is
// clamped to this much after the failure. Asking again after a day costs
// one request and returns a fresh Retry-After if the limit still holds.
const MaxRetryAfter = 24 * time.Hour

// nextRenewal decides when the certificate leaf (nil if there is none)
// should be renewed, and why. interim means leaf is from another issuer,
// served only until the slot's own issuer's arrives.
func nextRenewal(now time.Time, leaf *x509.Certificate, st renewState, interim bool) (time.Time, string) {
	at, reason := now, ReasonMissing
	switch {
	case leaf == nil:
	case interim:
		reason = ReasonIssuerChanged
	default:
		at, reason = dueTime(leaf, st)
	}
	if st.Failures > 0 {
		if retry := st.retryTime(leaf); retry.After(at) {
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
	at, reason := fallbackTime(leaf)
	if hasWindow(st) && !st.ARIChosen.IsZero() {
		at, reason = st.ARIChosen, ReasonARI
	}
	if emergency := lastTwentieth(leaf); at.After(emergency) {
		at, reason = emergency, ReasonEmergency
	}
	return at, reason
}

// lastTwentieth is when only 1/20 of leaf's lifetime remains.
func lastTwentieth(leaf *x509.Certificate) time.Time {
	return leaf.NotAfter.Add(-leaf.NotAfter.Sub(leaf.NotBefore) / 20)
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

// retryTime is when to try again after the failures recorded in st: the
// time chosen when the last one happened, or, in a state stored before
// that was recorded, the same rule without jitter.
func (st renewState) retryTime(leaf *x509.Certificate) time.Time {
	if !st.NextAttempt.IsZero() {
		return st.NextAttempt
	}
	return nextAttempt(st.LastAttempt, leaf, st.Failures, st.RetryAt, 0)
}

// nextAttempt is when to try again after the n-th consecutive failure
// (n >= 1) at now: after the backoff (1 min, 10 min, 100 min, ... 24 h),
// bounded by the time the certificate has left (see boundedBackoff),
// spread by ±1/10 of the wait (spread in [-1, 1] picks where), and never
// before retryAt, the issuer's Retry-After, clamped to MaxRetryAfter.
func nextAttempt(now time.Time, leaf *x509.Certificate, n int, retryAt time.Time, spread float64) time.Time {
	wait := boundedBackoff(now, leaf, n)
	wait += time.Duration(spread * float64(wait/retrySpread))
	at := now.Add(wait)
	if ra := clampRetryAt(now, retryAt); ra.After(at) {
		at = ra
	}
	return at
}

// boundedBackoff is the backoff after n failures, but at most a tenth of
// the validity leaf has left (and at least backoffFirst), so that the
// attempts get closer as expiry nears, and at most expiredRetryMax while
// there is no certificate or it has expired.
func boundedBackoff(now time.Time, leaf *x509.Certificate, n int) time.Duration {
	wait := backoff(n)
	if leaf == nil || !now.Before(leaf.NotAfter) {
		return min(wait, expiredRetryMax)
	}
	return min(wait, max(leaf.NotAfter.Sub(now)/10, backoffFirst))
}

// clampRetryAt bounds an issuer's Retry-After to MaxRetryAfter after now.
func clampRetryAt(now, retryAt time.Time) time.Time {
	if limit := now.Add(MaxRetryAfter); retryAt.After(limit) {
		return limit
	}
	return retryAt
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
