package metrics

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"time"

	"github.com/nats-autotls/autotls/tlsmgr"
)

// The failure reasons [FailureReason] returns.
const (
	ReasonRateLimited   = "rate_limited"        // the issuer refused for a rate limit; see Retry-After
	ReasonTimeout       = "timeout"             // a deadline passed
	ReasonCanceled      = "canceled"            // the Manager was closed or the caller gave up
	ReasonInvalid       = "invalid_certificate" // the issued or stored certificate failed validation
	ReasonChallenge     = "challenge_failed"    // the CA could not validate control of a name
	ReasonUnreachable   = "ca_unreachable"      // the CA could not be reached
	ReasonConfig        = "config"              // a setting only the CA can judge (profile, EAB) is wrong
	ReasonLock          = "lock"                // the storage lock could not be taken
	ReasonStorage       = "storage"             // loading or storing a certificate failed
	ReasonIssuer        = "issuer"              // the issuer failed otherwise
	ReasonOther         = "other"               // none of the above
	acmePackagePath     = "github.com/nats-autotls/autotls/acme"
	tlsmgrLockPrefix    = "tlsmgr: lock "
	tlsmgrIssuePrefix   = "tlsmgr: issue from "
	tlsmgrStorePrefix   = "tlsmgr: store "
	tlsmgrLoadPrefix    = "tlsmgr: load "
	tlsmgrPersistPrefix = "tlsmgr: persist "
)

// acmeReasons maps the acme package's error types to reasons. They are
// matched by name so that this package does not import acme (and lego).
var acmeReasons = map[string]string{
	"RateLimitError":   ReasonRateLimited,
	"ValidationError":  ReasonChallenge,
	"UnreachableError": ReasonUnreachable,
	"ConfigError":      ReasonConfig,
}

// FailureReason classifies the error of a failed event into one of the
// Reason constants, for a metric label: nil gives "".
func FailureReason(err error) string {
	if err == nil {
		return ""
	}
	var ve *tlsmgr.ValidationError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonTimeout
	case errors.Is(err, context.Canceled), errors.Is(err, tlsmgr.ErrClosed):
		return ReasonCanceled
	case errors.As(err, &ve):
		return ReasonInvalid
	}
	if r := acmeReason(err); r != "" {
		return r
	}
	if _, ok := retryAt(err); ok {
		return ReasonRateLimited
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, tlsmgrLockPrefix):
		return ReasonLock
	case strings.HasPrefix(msg, tlsmgrStorePrefix), strings.HasPrefix(msg, tlsmgrLoadPrefix), strings.HasPrefix(msg, tlsmgrPersistPrefix):
		return ReasonStorage
	case strings.HasPrefix(msg, tlsmgrIssuePrefix):
		return ReasonIssuer
	}
	return ReasonOther
}

// acmeReason returns the reason for the first error of the acme package in
// err's tree, or "".
func acmeReason(err error) string {
	for _, e := range chain(err) {
		t := reflect.TypeOf(e)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.PkgPath() == acmePackagePath {
			if r, ok := acmeReasons[t.Name()]; ok {
				return r
			}
		}
	}
	return ""
}

// chain lists err and every error it wraps, depth first.
func chain(err error) []error {
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

// retryAt returns the issuer's Retry-After carried by err, as the Manager
// honours it (an error with a RetryAt() time.Time method).
func retryAt(err error) (time.Time, bool) {
	var ra interface{ RetryAt() time.Time }
	if err != nil && errors.As(err, &ra) {
		return ra.RetryAt(), true
	}
	return time.Time{}, false
}
