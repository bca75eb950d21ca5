package tlsmgr

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"time"
)

// The failure classes [FailureReason] returns, the same in log lines
// (Event.Failure) and metric labels (tlsmgr/metrics).
const (
	FailureRateLimited  = "rate_limited"        // the issuer refused for a rate limit; see Retry-After
	FailureTimeout      = "timeout"             // a deadline passed
	FailureCanceled     = "canceled"            // the Manager was closed or the caller gave up
	FailureInvalid      = "invalid_certificate" // the issued or stored certificate failed validation
	FailureChallenge    = "challenge_failed"    // the CA could not validate control of a name
	FailureUnreachable  = "ca_unreachable"      // the CA could not be reached
	FailureConfig       = "config"              // a setting only the CA can judge (profile, EAB) is wrong
	FailureLock         = "lock"                // the storage lock could not be taken
	FailureStorage      = "storage"             // loading or storing a certificate failed
	FailureIssuer       = "issuer"              // the issuer failed otherwise
	FailureOther        = "other"               // none of the above
	acmePackagePath     = "github.com/nats-autotls/autotls/acme"
	tlsmgrLockPrefix    = "tlsmgr: lock "
	tlsmgrIssuePrefix   = "tlsmgr: issue from "
	tlsmgrStorePrefix   = "tlsmgr: store "
	tlsmgrLoadPrefix    = "tlsmgr: load "
	tlsmgrPersistPrefix = "tlsmgr: persist "
)

// acmeFailures maps the acme package's error types to reasons. They are
// matched by name so that this package does not import acme (and lego).
var acmeFailures = map[string]string{
	"RateLimitError":   FailureRateLimited,
	"ValidationError":  FailureChallenge,
	"UnreachableError": FailureUnreachable,
	"ConfigError":      FailureConfig,
}

// FailureReason classifies the error of a failed event into one of the
// Failure constants: nil gives "". Safe for concurrent use.
func FailureReason(err error) string {
	if err == nil {
		return ""
	}
	var ve *ValidationError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return FailureTimeout
	case errors.Is(err, context.Canceled), errors.Is(err, ErrClosed):
		return FailureCanceled
	case errors.As(err, &ve):
		return FailureInvalid
	}
	if r := acmeFailure(err); r != "" {
		return r
	}
	if _, ok := retryAtOf(err); ok {
		return FailureRateLimited
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, tlsmgrLockPrefix):
		return FailureLock
	case strings.HasPrefix(msg, tlsmgrStorePrefix), strings.HasPrefix(msg, tlsmgrLoadPrefix), strings.HasPrefix(msg, tlsmgrPersistPrefix):
		return FailureStorage
	case strings.HasPrefix(msg, tlsmgrIssuePrefix):
		return FailureIssuer
	}
	return FailureOther
}

// acmeFailure returns the reason for the first error of the acme package in
// err's tree, or "".
func acmeFailure(err error) string {
	for _, e := range errorTree(err) {
		t := reflect.TypeOf(e)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.PkgPath() == acmePackagePath {
			if r, ok := acmeFailures[t.Name()]; ok {
				return r
			}
		}
	}
	return ""
}

// errorTree lists err and every error it wraps, depth first.
func errorTree(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if e == nil || len(out) > 64 {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}

// retryAtOf returns the issuer's Retry-After carried by err, as the Manager
// honours it (an error with a RetryAt() time.Time method).
func retryAtOf(err error) (time.Time, bool) {
	var ra interface{ RetryAt() time.Time }
	if err != nil && errors.As(err, &ra) {
		return ra.RetryAt(), true
	}
	return time.Time{}, false
}
