package acme

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter is the longest Retry-After this package honours: a CA's
// Retry-After further ahead (or one that overflows, such as
// "99999999999999") is clamped to it, so that a broken or hostile answer
// cannot stop renewals for good. It equals tlsmgr's own bound. A limit
// that refills more slowly (Let's Encrypt's duplicate-certificate limit,
// about one every 34 hours) costs at most one more refused order a day.
const MaxRetryAfter = 24 * time.Hour

// parseRetryAfter parses a Retry-After header (RFC 9110 section 10.2.3):
// delay-seconds or an HTTP-date. It returns the wait from now, clamped to
// [0, MaxRetryAfter], and whether v was a valid value. It never
// overflows: a number of seconds too large for any duration is
// MaxRetryAfter, and a date in the past is zero.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true // only digits: too large (ErrRange)
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return clampRetryAfter(t.Sub(now)), true // Sub saturates, never wraps
}

// clampRetryAfter bounds d to [0, MaxRetryAfter].
func clampRetryAfter(d time.Duration) time.Duration {
	return min(max(d, 0), MaxRetryAfter)
}

// retryAt returns the time a Retry-After header v allows the next attempt,
// or the zero time if v is empty or invalid.
func retryAt(v string, now time.Time) time.Time {
	d, ok := parseRetryAfter(v, now)
	if !ok {
		return time.Time{}
	}
	return now.Add(d)
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
