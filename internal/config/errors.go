package config

import (
	"fmt"
	"strings"
)

// Error is a configuration setting that cannot be used. Its message names
// where the value came from, the setting, the value (never a secret's) and
// the fix:
//
//	nats.conf:7: autotls.acme.email: "bob": not an e-mail address: write it as name@example.com
type Error struct {
	// Source is where the value came from: "FILE:LINE", an environment
	// variable, a "-flag", or "default".
	Source string
	// Field is the setting's key in the autotls block ("acme.email").
	Field string
	// Value is the offending value; empty for a secret or a missing value.
	Value string
	// Problem says what is wrong, Fix what to do.
	Problem, Fix string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source + ": ")
	}
	b.WriteString("autotls." + e.Field)
	if e.Value != "" {
		fmt.Fprintf(&b, ": %q", e.Value)
	}
	if e.Problem != "" {
		b.WriteString(": " + e.Problem)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Fix != "" {
		b.WriteString(": " + e.Fix)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
