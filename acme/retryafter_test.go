package acme

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Retry-After values as a CA sends them, read from a fixed now: never an
// overflow, never negative, never beyond MaxRetryAfter.
func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
		ok    bool
	}{
		{"seconds", "3600", time.Hour, true},
		{"spaces", " 120 ", 2 * time.Minute, true},
		{"zero", "0", 0, true},
		{"at the maximum", "86400", MaxRetryAfter, true},
		{"beyond the maximum", "86401", MaxRetryAfter, true},
		// 9300000000 s overflows a time.Duration (int64 ns) to a negative value.
		{"overflows a Duration", "9300000000", MaxRetryAfter, true},
		// 99999999999999 s wrapped to a date in 2033.
		{"overflows a Duration twice", "99999999999999", MaxRetryAfter, true},
		{"overflows uint64", "999999999999999999999999", MaxRetryAfter, true},
		{"http-date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"http-date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"http-date far ahead", "Fri, 31 Dec 9999 23:59:59 GMT", MaxRetryAfter, true},
		{"rfc850 date", now.Add(time.Minute).Format("Monday, 02-Jan-06 15:04:05 GMT"), time.Minute, true},
		{"negative", "-5", 0, false},
		{"fraction", "1.5", 0, false},
		{"plus sign", "+5", 0, false},
		{"empty", "", 0, false},
		{"garbage", "soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.value, now)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
			if ok {
				require.Equal(t, now.Add(tt.want), retryAt(tt.value, now))
			} else {
				require.True(t, retryAt(tt.value, now).IsZero())
			}
		})
	}
}

// FuzzParseRetryAfter: any header value gives a wait within
// [0, MaxRetryAfter], and a retry time that is not before now.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"3600", "99999999999999", "9300000000", "-1", "", "Fri, 31 Dec 9999 23:59:59 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "0x10", " 7 "} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || d > MaxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %v, outside [0, %v]", v, d, MaxRetryAfter)
		}
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v for an invalid value", v, d)
		}
		if at := retryAt(v, now); !at.IsZero() && at.Before(now) {
			t.Fatalf("retryAt(%q) = %v, before now", v, at)
		}
	})
}

// The budget derives every step's deadline from the order timeout, and a
// CA's polling hint never exceeds the poll interval.
func TestBudget(t *testing.T) {
	b := newBudget(0)
	require.Equal(t, DefaultOrderTimeout, b.order)
	require.Equal(t, time.Minute, b.request)
	require.Equal(t, 150*time.Second, b.provider)
	require.Equal(t, 5*time.Minute, b.propagation)
	require.Equal(t, 10*time.Second, b.poll)
	require.Equal(t, 10*time.Second, b.query)

	now := time.Now()
	require.Equal(t, 10, b.pollSeconds("3600", now), "an hour's hint is cut to the poll interval")
	require.Equal(t, 3, b.pollSeconds("3", now))
	require.Equal(t, 1, b.pollSeconds("0", now), "never 0, which lego reads as 5 s")
	small := newBudget(3 * time.Second)
	require.Equal(t, 1, small.pollSeconds("3600", now))
	require.Equal(t, 50*time.Millisecond, small.query)
}
