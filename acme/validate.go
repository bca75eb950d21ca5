package acme

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// validate checks cfg and fills its defaults. It does no I/O.
func validate(cfg *Config) error {
	if cfg.DirectoryURL == "" {
		cfg.DirectoryURL = LetsEncrypt
	}
	checks := []func(*Config) error{
		checkTOS, checkDirectory, checkKeyType, checkEAB, checkSolvers, checkLifetime, checkOrderTimeout,
	}
	for _, check := range checks {
		if err := check(cfg); err != nil {
			return err
		}
	}
	return nil
}

func checkTOS(cfg *Config) error {
	if cfg.AgreeTOS {
		return nil
	}
	return &ConfigError{Field: "AgreeTOS", Value: "false",
		Fix: "registering an ACME account means agreeing to the CA's terms of service: read them and set AgreeTOS to true"}
}

func checkDirectory(cfg *Config) error {
	u, err := url.Parse(cfg.DirectoryURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return &ConfigError{Field: "DirectoryURL", Value: cfg.DirectoryURL,
			Fix: "use the https URL of the CA's ACME directory, for example " + LetsEncrypt}
	}
	return nil
}

func checkKeyType(cfg *Config) error {
	if _, ok := cfg.KeyType.certutil(); ok {
		return nil
	}
	return &ConfigError{Field: "KeyType", Value: string(cfg.KeyType),
		Fix: fmt.Sprintf("use one of %q, %q, %q, %q, %q, %q or leave it empty for %q",
			KeyP256, KeyP384, KeyRSA2048, KeyRSA3072, KeyRSA4096, KeyEd25519, KeyP256)}
}

func checkEAB(cfg *Config) error {
	if cfg.EAB == nil {
		return nil
	}
	if cfg.EAB.KeyID == "" {
		return &ConfigError{Field: "EAB.KeyID", Value: "", Fix: "set the key identifier the CA gave you, or set EAB to nil"}
	}
	if _, err := decodeHMAC(cfg.EAB.HMACKey); err != nil || cfg.EAB.HMACKey == "" {
		return &ConfigError{Field: "EAB.HMACKey", Value: fmt.Sprintf("(%d characters, not shown)", len(cfg.EAB.HMACKey)),
			Fix: "set the base64url-encoded MAC key the CA gave you"}
	}
	return nil
}

// decodeHMAC decodes an EAB MAC key as lego does: base64url with or without
// padding.
func decodeHMAC(s string) ([]byte, error) {
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.URLEncoding.DecodeString(s)
}

func checkSolvers(cfg *Config) error {
	if cfg.DNS01 == nil && cfg.HTTP01 == nil && cfg.DNSPersist01 == nil && cfg.TLSALPN01 == nil {
		return &ConfigError{Field: "DNS01", Value: "nil",
			Fix: "set DNS01 (with a libdns or lego provider), HTTP01, TLSALPN01 or DNSPersist01 so that challenges can be solved"}
	}
	if p := cfg.DNSPersist01; p != nil {
		for i, r := range p.Resolvers {
			if err := checkResolver(r); err != nil {
				return &ConfigError{Field: fmt.Sprintf("DNSPersist01.Resolvers[%d]", i), Value: r, Fix: `use "host" or "host:port"`}
			}
		}
	}
	if d := cfg.DNS01; d != nil {
		if err := checkDNS01(d); err != nil {
			return err
		}
	}
	if h := cfg.HTTP01; h != nil {
		if h.Addr == "" {
			h.Addr = ":80"
		}
		if _, _, err := net.SplitHostPort(h.Addr); err != nil {
			return &ConfigError{Field: "HTTP01.Addr", Value: h.Addr, Fix: `use "host:port" or ":port", for example ":80"`}
		}
	}
	return nil
}

func checkDNS01(d *DNS01) error {
	if (d.Provider == nil) == (d.Lego == nil) {
		return &ConfigError{Field: "DNS01.Provider", Value: fmt.Sprintf("Provider set: %t, Lego set: %t", d.Provider != nil, d.Lego != nil),
			Fix: "set exactly one of DNS01.Provider (libdns) and DNS01.Lego"}
	}
	if d.PropagationTimeout < 0 || d.PollingInterval < 0 {
		return &ConfigError{Field: "DNS01.PropagationTimeout", Value: fmt.Sprintf("%s/%s", d.PropagationTimeout, d.PollingInterval),
			Fix: "use positive durations, or zero for the defaults"}
	}
	for i, r := range d.Resolvers {
		if err := checkResolver(r); err != nil {
			return &ConfigError{Field: fmt.Sprintf("DNS01.Resolvers[%d]", i), Value: r, Fix: `use "host" or "host:port"`}
		}
	}
	return nil
}

// checkResolver checks a "host" or "host:port" resolver address.
func checkResolver(r string) error {
	host := r
	if h, _, err := net.SplitHostPort(r); err == nil {
		host = h
	}
	if host == "" || strings.ContainsAny(host, "/ ") {
		return errors.New("bad resolver")
	}
	return nil
}

func checkLifetime(cfg *Config) error {
	if cfg.Lifetime < 0 {
		return &ConfigError{Field: "Lifetime", Value: cfg.Lifetime.String(), Fix: "use a positive duration, or zero for the CA's default"}
	}
	return nil
}

// minOrderTimeout is the shortest OrderTimeout accepted: an order makes
// about ten requests and waits for the CA at least once.
const minOrderTimeout = time.Second

func checkOrderTimeout(cfg *Config) error {
	if cfg.OrderTimeout != 0 && cfg.OrderTimeout < minOrderTimeout {
		return &ConfigError{Field: "OrderTimeout", Value: cfg.OrderTimeout.String(),
			Fix: "use at least 1s (a few minutes for a real CA and DNS), or zero for the default " + DefaultOrderTimeout.String()}
	}
	return nil
}

// issuerKey derives a file-name-safe identifier from a directory URL: host
// and path, with every other character replaced by '-'.
func issuerKey(directoryURL string) string {
	u, err := url.Parse(directoryURL)
	if err != nil {
		return "acme"
	}
	raw := u.Host + u.Path
	var b strings.Builder
	for _, r := range raw {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	key := strings.Trim(b.String(), "-.")
	for strings.Contains(key, "--") {
		key = strings.ReplaceAll(key, "--", "-")
	}
	if key == "" {
		return "acme"
	}
	return key
}
