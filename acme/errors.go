package acme

import (
	"context"
	"fmt"
	"time"
)

// RateLimitError reports that the CA refused a request because a rate limit
// was hit (HTTP 429). Retry no earlier than RetryAfter.
type RateLimitError struct {
	// RetryAfter is when the CA allows the next attempt: its Retry-After
	// header (delay-seconds or HTTP-date) from the time of the answer,
	// clamped to [MaxRetryAfter]; zero if the CA did not say.
	RetryAfter time.Time
	// Detail is the CA's explanation.
	Detail string

	err error
}

// Error says when to retry and why.
func (e *RateLimitError) Error() string {
	if e.RetryAfter.IsZero() {
		return "acme: rate limited: " + e.Detail
	}
	return fmt.Sprintf("acme: rate limited until %s: %s", e.RetryAfter.UTC().Format(time.RFC3339), e.Detail)
}

// Unwrap returns the CA's error.
func (e *RateLimitError) Unwrap() error { return e.err }

// RetryAt returns RetryAfter. A tlsmgr.Manager recognises any error with
// this method and never retries before the time it returns.
func (e *RateLimitError) RetryAt() time.Time { return e.RetryAfter }

// ValidationError reports that the CA could not validate control of Name:
// the challenge failed or the CA refused the name.
type ValidationError struct {
	// Name is the DNS name or IP address that failed.
	Name string
	// Detail is the CA's explanation.
	Detail string

	err error
}

// Error names the name that failed and the CA's reason.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("acme: validation of %s failed: %s", e.Name, e.Detail)
}

// Unwrap returns the CA's error.
func (e *ValidationError) Unwrap() error { return e.err }

// ConfigError reports a [Config] field that cannot work, found by [New] or,
// for what only the CA knows (profiles, External Account Binding), by the
// first order.
type ConfigError struct {
	// Field is the Config field, for example "AgreeTOS" or "EAB.HMACKey".
	Field string
	// Value is the offending value; secrets are never copied here.
	Value string
	// Fix says what to do.
	Fix string

	err error
}

// Error names the field, its value and the fix.
func (e *ConfigError) Error() string {
	msg := fmt.Sprintf("acme: config: %s = %q: %s", e.Field, e.Value, e.Fix)
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

// Unwrap returns the underlying error, if any.
func (e *ConfigError) Unwrap() error { return e.err }

// UnreachableError reports that the CA could not be reached or could not
// serve the request: a dial failure, a timeout, or an HTTP 5xx answer.
// An HTTP 503 usually carries Retry-After (a CA down for maintenance, or
// shedding load): RetryAfter then says when to try again.
type UnreachableError struct {
	// URL is the URL that failed.
	URL string
	// Status is the HTTP status of the CA's answer, or zero if there was
	// no answer (dial failure, timeout, connection closed).
	Status int
	// RetryAfter is when the CA allows the next attempt (its Retry-After,
	// clamped to [MaxRetryAfter]); zero if it did not say.
	RetryAfter time.Time
	// Err is the cause.
	Err error
}

// Error names the URL, the status and the cause.
func (e *UnreachableError) Error() string {
	msg := "acme: CA unreachable at " + e.URL
	if e.Status != 0 {
		msg = fmt.Sprintf("acme: CA unavailable at %s (HTTP %d)", e.URL, e.Status)
	}
	if !e.RetryAfter.IsZero() {
		msg += " until " + e.RetryAfter.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s: %v", msg, e.Err)
}

// Unwrap returns Err.
func (e *UnreachableError) Unwrap() error { return e.Err }

// RetryAt returns RetryAfter: like [RateLimitError.RetryAt], a floor for
// the next attempt (zero: no floor).
func (e *UnreachableError) RetryAt() time.Time { return e.RetryAfter }

// TimeoutError reports that an order did not finish within
// Config.OrderTimeout, and which step it was in: an ACME request, a DNS
// provider call, a propagation check or the wait for the CA to validate.
type TimeoutError struct {
	// Names are the names of the order, comma-separated.
	Names string
	// Timeout is Config.OrderTimeout (or its default).
	Timeout time.Duration
	// Step is the step in progress, for example
	// "dns-01 present _acme-challenge.example.com." or
	// "POST https://ca.example/acme/chall/1".
	Step string
}

// Error names the order, the timeout and the step.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("acme: order for %s did not finish within %s (Config.OrderTimeout): stopped during %s", e.Names, e.Timeout, e.Step)
}

// Unwrap returns context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }
