package tlsmgr

import (
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const day = 24 * time.Hour

// leafFor returns a leaf valid for life from nb.
func leafFor(nb time.Time, life time.Duration) *x509.Certificate {
	return &x509.Certificate{SerialNumber: big.NewInt(42), NotBefore: nb, NotAfter: nb.Add(life)}
}

func TestNextRenewal(t *testing.T) {
	nb := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		life    time.Duration
		now     time.Duration // after nb
		st      renewState
		changed bool
		missing bool
		want    time.Duration // after nb
		reason  string
		spread  time.Duration // allowed jitter
	}{
		{name: "90 days no ARI", life: 90 * day, want: 60 * day, reason: ReasonThird, spread: time.Hour},
		{name: "45 days no ARI", life: 45 * day, want: 30 * day, reason: ReasonThird, spread: 45 * day / 100},
		{name: "6 days no ARI", life: 6 * day, want: 3 * day, reason: ReasonHalfLife, spread: 6 * day / 100},
		{name: "160 hours no ARI", life: 160 * time.Hour, want: 80 * time.Hour, reason: ReasonHalfLife, spread: 96 * time.Minute},
		{name: "90 days ARI chosen", life: 90 * day, st: renewState{ARIStart: nb.Add(59 * day), ARIEnd: nb.Add(61 * day), ARIChosen: nb.Add(60*day + 3*time.Hour)}, want: 60*day + 3*time.Hour, reason: ReasonARI},
		{name: "ARI window in the past", life: 90 * day, now: 10 * day, st: renewState{ARIStart: nb.Add(day), ARIEnd: nb.Add(2 * day), ARIChosen: nb.Add(36 * time.Hour)}, want: 36 * time.Hour, reason: ReasonARI},
		{name: "inverted ARI window ignored", life: 90 * day, st: renewState{ARIStart: nb.Add(61 * day), ARIEnd: nb.Add(59 * day), ARIChosen: nb.Add(60 * day)}, want: 60 * day, reason: ReasonThird, spread: time.Hour},
		{name: "ARI later than emergency", life: 90 * day, st: renewState{ARIStart: nb.Add(88 * day), ARIEnd: nb.Add(89 * day), ARIChosen: nb.Add(88 * day)}, want: 90*day - 90*day/20, reason: ReasonEmergency},
		{name: "missing", missing: true, now: 5 * day, want: 5 * day, reason: ReasonMissing},
		{name: "issuer changed", life: 90 * day, now: 5 * day, changed: true, want: 5 * day, reason: ReasonIssuerChanged},
		{name: "first failure", life: 90 * day, now: 62 * day, st: renewState{Failures: 1, LastAttempt: nb.Add(62 * day)}, want: 62*day + time.Minute, reason: ReasonRetry},
		{name: "third failure", life: 90 * day, now: 62 * day, st: renewState{Failures: 3, LastAttempt: nb.Add(62 * day)}, want: 62*day + 100*time.Minute, reason: ReasonRetry},
		{name: "backoff capped at a day", life: 90 * day, now: 62 * day, st: renewState{Failures: 9, LastAttempt: nb.Add(62 * day)}, want: 63 * day, reason: ReasonRetry},
		{name: "backoff at most a tenth of the time left", life: 6 * day, now: 5*day + 22*time.Hour, st: renewState{Failures: 5, LastAttempt: nb.Add(5*day + 22*time.Hour)}, want: 5*day + 22*time.Hour + 12*time.Minute, reason: ReasonRetry},
		{name: "backoff at least a minute", life: 6 * day, now: 6*day - time.Minute, st: renewState{Failures: 5, LastAttempt: nb.Add(6*day - time.Minute)}, want: 6 * day, reason: ReasonRetry},
		{name: "backoff at most 5 min after expiry", life: 6 * day, now: 7 * day, st: renewState{Failures: 3, LastAttempt: nb.Add(7 * day)}, want: 7*day + 5*time.Minute, reason: ReasonRetry},
		{name: "backoff at most 5 min without certificate", missing: true, now: 7 * day, st: renewState{Failures: 9, LastAttempt: nb.Add(7 * day)}, want: 7*day + 5*time.Minute, reason: ReasonRetry},
		{name: "next attempt chosen at failure wins", life: 90 * day, now: 62 * day, st: renewState{Failures: 2, LastAttempt: nb.Add(62 * day), NextAttempt: nb.Add(62*day + 11*time.Minute)}, want: 62*day + 11*time.Minute, reason: ReasonRetry},
		{name: "Retry-After beyond expiry honoured", life: time.Hour, now: 50 * time.Minute, st: renewState{Failures: 1, LastAttempt: nb.Add(50 * time.Minute), RetryAt: nb.Add(3 * time.Hour)}, want: 3 * time.Hour, reason: ReasonRetry},
		{name: "Retry-After floor", life: 90 * day, now: 62 * day, st: renewState{Failures: 1, LastAttempt: nb.Add(62 * day), RetryAt: nb.Add(62*day + 3*time.Hour)}, want: 62*day + 3*time.Hour, reason: ReasonRetry},
		{name: "due at issuance waits a minute", life: 10 * day, now: 9*day + 12*time.Hour, st: renewState{Issued: nb.Add(9*day + 12*time.Hour)}, want: 9*day + 12*time.Hour + time.Minute, reason: ReasonThird},
		{name: "issued long ago is no floor", life: 90 * day, st: renewState{Issued: nb}, want: 60 * day, reason: ReasonThird, spread: time.Hour},
		{name: "Retry-After below backoff", life: 90 * day, now: 62 * day, st: renewState{Failures: 2, LastAttempt: nb.Add(62 * day), RetryAt: nb.Add(62*day + time.Minute)}, want: 62*day + 10*time.Minute, reason: ReasonRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var leaf *x509.Certificate
			if !tt.missing {
				leaf = leafFor(nb, tt.life)
			}
			at, reason := nextRenewal(nb.Add(tt.now), leaf, tt.st, tt.changed)
			require.Equal(t, tt.reason, reason)
			require.WithinDuration(t, nb.Add(tt.want), at, tt.spread)
		})
	}
}

func TestJitterIsFixedPerCertificateAndSpread(t *testing.T) {
	nb := time.Now()
	seen := map[time.Duration]bool{}
	for i := range 50 {
		leaf := leafFor(nb, 90*day)
		leaf.SerialNumber = big.NewInt(int64(i) * 7919)
		j := jitter(leaf, 90*day)
		require.Equal(t, j, jitter(leaf, 90*day), "same certificate, same jitter")
		require.LessOrEqual(t, j.Abs(), time.Hour)
		seen[j] = true
	}
	require.Greater(t, len(seen), 40, "jitter spreads certificates")
}

func TestApplyWindow(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(2 * day)
	var st renewState
	applyWindow(&st, start, end)
	chosen := st.ARIChosen
	require.False(t, chosen.Before(start))
	require.True(t, chosen.Before(end))

	applyWindow(&st, start.Add(-time.Hour), end)
	require.Equal(t, chosen, st.ARIChosen, "chosen time kept while inside the window")

	applyWindow(&st, end.Add(day), end.Add(2*day))
	require.False(t, st.ARIChosen.Before(end.Add(day)), "re-picked when the window moves past it")

	applyWindow(&st, time.Time{}, time.Time{})
	require.False(t, hasWindow(st), "a zero window clears the advice")
	applyWindow(&st, end, start)
	require.False(t, hasWindow(st), "an inverted window is no advice")
}

// TestNextAttemptCannotStrand: with a 1-hour certificate and the CA down
// from its renewal time on, the attempts come ever closer as expiry nears
// and every few minutes once it has passed; never a day's gap. Before
// the change: 30, 31, 41, 51, 56, 58, 59, 60 min, then 24 h.
func TestNextAttemptCannotStrand(t *testing.T) {
	nb := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	leaf := leafFor(nb, time.Hour)
	now := nb.Add(30 * time.Minute)
	var times []time.Duration
	for n := 1; now.Before(nb.Add(3 * time.Hour)); n++ {
		next := nextAttempt(now, leaf, n, time.Time{}, 1) // the longest jitter
		wait := next.Sub(now)
		left := leaf.NotAfter.Sub(now)
		switch {
		case left > 10*time.Minute:
			require.LessOrEqual(t, wait, left/10+left/100, "attempt %d at %v: a tenth of the time left", n, now.Sub(nb))
		case left > 0:
			require.LessOrEqual(t, wait, time.Minute+6*time.Second, "attempt %d at %v", n, now.Sub(nb))
		default:
			require.LessOrEqual(t, wait, 5*time.Minute+30*time.Second, "attempt %d at %v: expired", n, now.Sub(nb))
		}
		times = append(times, next.Sub(nb))
		now = next
	}
	require.Greater(t, len(times), 30, "attempts %v", times)
}

func TestNextAttemptRetryAfterClamped(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	leaf := leafFor(now.Add(-day), 90*day)
	require.Equal(t, now.Add(3*time.Hour), nextAttempt(now, leaf, 1, now.Add(3*time.Hour), 0), "Retry-After is a floor")
	require.Equal(t, now.Add(MaxRetryAfter), nextAttempt(now, leaf, 1, now.Add(10*365*day), 0), "clamped to MaxRetryAfter")
	require.Equal(t, now.Add(time.Minute), nextAttempt(now, leaf, 1, now.Add(-time.Hour), 0), "a past Retry-After is no floor")
	require.Equal(t, now.Add(time.Minute+6*time.Second), nextAttempt(now, leaf, 1, time.Time{}, 1), "jitter adds up to a tenth")
	require.Equal(t, now.Add(time.Minute-6*time.Second), nextAttempt(now, leaf, 1, time.Time{}, -1), "or takes it away")
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 10 * time.Minute, 100 * time.Minute, 1000 * time.Minute, 24 * time.Hour, 24 * time.Hour}
	for i, w := range want {
		require.Equal(t, w, backoff(i+1), "failure %d", i+1)
	}
}
