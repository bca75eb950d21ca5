package privateca

import (
	"fmt"
	"time"
)

// Defaults for the zero fields of [Config].
const (
	// DefaultName is the subject common name of a generated CA.
	DefaultName = "nats-autotls private CA"
	// DefaultCALifetime is the validity of a generated CA.
	DefaultCALifetime = 10 * 365 * 24 * time.Hour
	// DefaultLeafLifetime is the validity of an issued leaf certificate.
	DefaultLeafLifetime = 7 * 24 * time.Hour
)

// maxNameLen is the X.520 upper bound of a common name.
const maxNameLen = 64

// Config configures a [CA]. The zero value is valid: [New] then generates a
// fresh P-256 CA named [DefaultName] valid for [DefaultCALifetime], issuing
// leaves valid for [DefaultLeafLifetime]. New copies the Config; changing it
// afterwards has no effect.
type Config struct {
	// CertPEM is an existing CA certificate (one PEM "CERTIFICATE" block) to
	// sign with, so that the nodes of a cluster share one CA. It must be a CA
	// (basic constraints CA:true, key usage certSign) and not expired.
	// If empty, New generates a fresh CA and KeyPEM must be empty too.
	CertPEM []byte

	// KeyPEM is the private key of CertPEM (PKCS #8, PKCS #1 or SEC 1 PEM).
	// Required when CertPEM is set; must be empty otherwise. Keep it secret.
	KeyPEM []byte

	// Name is the subject common name of a generated CA, at most 64 bytes.
	// If empty, [DefaultName]. Ignored when CertPEM is set.
	Name string

	// CALifetime is the validity of a generated CA. Zero means
	// [DefaultCALifetime]. Ignored when CertPEM is set.
	CALifetime time.Duration

	// LeafLifetime is the validity of issued leaves, cut short to the CA's
	// own expiry. Zero means [DefaultLeafLifetime]; a Manager renews at
	// half-life.
	LeafLifetime time.Duration

	// Trust lists extra CA certificates (PEM, any number of blocks per
	// entry) trusted in the bundle besides the signing CA, for example the
	// previous CA while rotating. Each must be a CA certificate. If nil, only
	// the signing CA is trusted.
	Trust [][]byte

	// Now is the clock. If nil, [time.Now].
	Now func() time.Time
}

// A ConfigError reports an invalid [Config] field or an invalid argument of
// [CA.Rotate] or [CA.Trust]. Its message names the field, the problem and
// the fix; it never quotes key material.
type ConfigError struct {
	Field  string // "Config.CertPEM", "Config.Trust[1]", "Rotate keyPEM", ...
	Reason string // what is wrong
	Fix    string // what to do about it
	Err    error  // the underlying parse error, if any
}

// Error implements error.
func (e *ConfigError) Error() string {
	msg := "privateca: " + e.Field + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// withDefaults checks the scalar fields of cfg and fills its defaults.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if len(cfg.Name) > maxNameLen {
		return cfg, &ConfigError{Field: "Config.Name", Reason: fmt.Sprintf("%q is %d bytes long", cfg.Name, len(cfg.Name)),
			Fix: fmt.Sprintf("use at most %d bytes", maxNameLen)}
	}
	if err := checkLifetime("Config.CALifetime", cfg.CALifetime); err != nil {
		return cfg, err
	}
	if err := checkLifetime("Config.LeafLifetime", cfg.LeafLifetime); err != nil {
		return cfg, err
	}
	if cfg.CALifetime == 0 {
		cfg.CALifetime = DefaultCALifetime
	}
	if cfg.LeafLifetime == 0 {
		cfg.LeafLifetime = DefaultLeafLifetime
	}
	return cfg, nil
}

func checkLifetime(field string, d time.Duration) error {
	if d < 0 {
		return &ConfigError{Field: field, Reason: fmt.Sprintf("negative duration %v", d),
			Fix: "use a positive duration, or zero for the default"}
	}
	return nil
}
