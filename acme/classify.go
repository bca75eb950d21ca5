package acme

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"time"

	legoacme "github.com/go-acme/lego/v4/acme"
)

// ACME error types this package acts on.
const (
	externalAccountRequired = "urn:ietf:params:acme:error:externalAccountRequired"
	accountDoesNotExist     = "urn:ietf:params:acme:error:accountDoesNotExist"
)

// classify turns an error from lego into this package's typed errors
// where one fits, and otherwise returns err unchanged.
func classify(err error, now time.Time) error {
	// The transport already turned 429 and 503 answers into these.
	var ours *RateLimitError
	if errors.As(err, &ours) {
		return ours
	}
	var down *UnreachableError
	if errors.As(err, &down) {
		return down
	}
	var rl *legoacme.RateLimitedError
	if errors.As(err, &rl) {
		return &RateLimitError{Detail: rl.Detail, RetryAfter: retryAt(rl.RetryAfter, now), err: err}
	}
	var pd *legoacme.ProblemDetails
	if errors.As(err, &pd) && pd.Type == externalAccountRequired {
		return errEABRequired(err)
	}
	if perName := domainErrors(err); len(perName) > 0 {
		return joinDomainErrors(perName)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &UnreachableError{URL: ue.URL, Err: err}
	}
	return err
}

// joinDomainErrors makes a ValidationError of every per-name error the CA
// explained, in name order.
func joinDomainErrors(perName map[string]error) error {
	names := make([]string, 0, len(perName))
	for n := range perName {
		names = append(names, n)
	}
	sort.Strings(names)
	errs := make([]error, 0, len(names))
	for _, n := range names {
		err := perName[n]
		var pd *legoacme.ProblemDetails
		if errors.As(err, &pd) {
			errs = append(errs, &ValidationError{Name: n, Detail: pd.Detail, err: err})
			continue
		}
		errs = append(errs, fmt.Errorf("%s: %w", n, err))
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// mapOfErrors is the underlying type of lego's per-domain obtain error,
// which lego does not export.
var mapOfErrors = reflect.TypeFor[map[string]error]()

// domainErrors finds lego's per-domain error map in err's tree.
func domainErrors(err error) map[string]error {
	if err == nil {
		return nil
	}
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Map && v.Type().ConvertibleTo(mapOfErrors) {
		return v.Convert(mapOfErrors).Interface().(map[string]error)
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return domainErrors(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if m := domainErrors(e); m != nil {
				return m
			}
		}
	}
	return nil
}

// errEABRequired says that the CA requires External Account Binding.
func errEABRequired(cause error) *ConfigError {
	return &ConfigError{Field: "EAB", Value: "nil",
		Fix: "the CA requires External Account Binding: set Config.EAB to the key ID and MAC key from your CA account", err: cause}
}
