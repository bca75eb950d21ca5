package acme

import (
	"fmt"
	"time"
)

// RateLimitError reports that the CA refused a request because a rate limit
// was hit. Retry no earlier than RetryAfter.
type RateLimitError struct {
	// RetryAfter is when the CA allows the next attempt; zero if the CA did
	// not say.
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

// UnreachableError reports that the CA could not be reached: a dial
// failure, a timeout or a server error on the directory.
type UnreachableError struct {
	// URL is the URL that failed.
	URL string
	// Err is the cause.
	Err error
}

// Error names the URL and the cause.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("acme: CA unreachable at %s: %v", e.URL, e.Err)
}

// Unwrap returns Err.
func (e *UnreachableError) Unwrap() error { return e.Err }
