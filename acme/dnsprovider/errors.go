package dnsprovider

import (
	"fmt"
	"strings"
)

// UnknownProviderError is returned for a provider name the registry does
// not know.
type UnknownProviderError struct {
	Name  string   // the name asked for
	Known []string // the curated names
}

// Error names the provider and the names that would work.
func (e *UnknownProviderError) Error() string {
	return fmt.Sprintf("dnsprovider: unknown DNS provider %q: use one of %s, or build with -tags autotls_alldns for lego's whole registry",
		e.Name, strings.Join(e.Known, ", "))
}

// UnknownFieldError is returned for a setting the provider does not have.
type UnknownFieldError struct {
	Provider, Field string   // the provider and the setting it lacks
	Known           []string // the provider's settings
	// EnvOnly: the provider is outside the curated set and takes its
	// settings from lego's environment variables only.
	EnvOnly bool
}

// Error names the provider, the setting and the settings it has.
func (e *UnknownFieldError) Error() string {
	if e.EnvOnly {
		return fmt.Sprintf("dnsprovider: %s: setting %q: this provider takes its settings from lego's environment variables only (see https://go-acme.github.io/lego/dns/%s/): set them there, not in the configuration", e.Provider, e.Field, e.Provider)
	}
	return fmt.Sprintf("dnsprovider: %s: unknown setting %q: use one of %s", e.Provider, e.Field, strings.Join(e.Known, ", "))
}

// MissingFieldError is returned when a required setting is empty.
type MissingFieldError struct {
	Provider string // the provider
	Field    Field  // the required setting that is empty
	// Alternatives names other settings that would do instead, if any.
	Alternatives string
}

// Error names the provider, the setting and where to set it.
func (e *MissingFieldError) Error() string {
	alt := ""
	if e.Alternatives != "" {
		alt = " (" + e.Alternatives + ")"
	}
	return fmt.Sprintf("dnsprovider: %s: missing %s%s: set %q in the provider's settings or %s (or %s_FILE)",
		e.Provider, e.Field.Key, alt, e.Field.Key, e.Field.Env, e.Field.Env)
}

// InvalidFieldError is returned for a setting whose value cannot be used.
// The value of a secret field is never part of it.
type InvalidFieldError struct {
	// Provider and Field name the setting, Value its value ("" for a
	// secret) and Reason what is wrong with it.
	Provider, Field, Value, Reason string
}

// Error names the provider, the setting, its value unless secret, and why.
func (e *InvalidFieldError) Error() string {
	v := ""
	if e.Value != "" {
		v = fmt.Sprintf(" %q", e.Value)
	}
	return fmt.Sprintf("dnsprovider: %s: %s%s: %s", e.Provider, e.Field, v, e.Reason)
}
