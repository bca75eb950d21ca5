package config

import (
	"slices"
	"strings"
)

// fromEnv collects the NATS_AUTOTLS_* variables. Every such variable must
// name a setting: a misspelt one is an error, not ignored. Secrets may be
// given as NAME_FILE, the provider's settings as
// NATS_AUTOTLS_DNS_SETTINGS_<KEY>[_FILE].
func fromEnv(environ []string, read readFunc) ([]assignment, error) {
	var out []assignment
	vars := slices.Clone(environ)
	slices.Sort(vars)
	for _, kv := range vars {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		a, err := envAssignment(name, value, read)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func envAssignment(name, value string, read readFunc) (assignment, error) {
	source := "env " + name
	if rest, ok := strings.CutPrefix(name, EnvPrefix+"DNS_SETTINGS_"); ok && rest != "" {
		key := "dns.settings." + strings.ToLower(rest)
		if base, ok := strings.CutSuffix(key, "_file"); ok {
			return secretFromFile(read, base, value, source)
		}
		return assignment{key: key, value: value, source: source}, nil
	}
	for _, s := range settings() {
		switch name {
		case s.env():
			v, err := parseText(s.kind, value)
			if err != nil {
				return assignment{}, &Error{Source: source, Field: s.key, Value: value, Problem: err.Error(), Fix: "give " + s.kind.String()}
			}
			if s.secret {
				return assignment{key: s.key, value: v, source: source}, nil
			}
			return assignment{key: s.key, value: v, source: source}, nil
		case s.env() + "_FILE":
			if s.secret {
				return secretFromFile(read, s.key, value, source)
			}
		}
	}
	return assignment{}, &Error{Source: source, Field: strings.ToLower(strings.TrimPrefix(name, EnvPrefix)), Problem: "unknown variable",
		Fix: "use one of " + strings.Join(knownEnv(), ", ")}
}

// knownEnv lists the variables of the configuration.
func knownEnv() []string {
	var out []string
	for _, s := range settings() {
		out = append(out, s.env())
		if s.secret {
			out = append(out, s.env()+"_FILE")
		}
	}
	return append(out, EnvPrefix+"DNS_SETTINGS_<KEY>[_FILE]")
}
