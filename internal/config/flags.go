package config

import (
	"flag"
	"fmt"
	"strings"

	"github.com/nats-autotls/autotls/acme/dnsprovider"
)

// settingsFlag is -autotls_dns_setting KEY=VALUE, repeatable.
type settingsFlag []string

func (s *settingsFlag) String() string { return strings.Join(*s, ",") }

func (s *settingsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// RegisterFlags registers on fs the flags of the settings that fs does not
// have yet (the binary registers most of them itself, with their help
// texts), and -autotls_dns_setting KEY=VALUE for the DNS provider's
// settings. Secrets have only a file form on the command line
// (-autotls_eab_hmac_key_file, -autotls_dns_setting KEY_file=PATH): a
// command line is visible to every user of the host.
func RegisterFlags(fs *flag.FlagSet) {
	for _, s := range settings() {
		name := s.flag
		if s.secret {
			name += "_file"
		}
		if fs.Lookup(name) != nil {
			continue
		}
		if s.kind == kBool {
			fs.Bool(name, false, capitalize(s.doc)+".")
			continue
		}
		doc := capitalize(s.doc)
		if s.key == "dns.provider" {
			doc += " (" + strings.Join(dnsprovider.New().Names(), ", ") + ")"
		}
		if s.secret {
			doc = "File holding the " + s.doc
		}
		fs.String(name, "", doc+".")
	}
	if fs.Lookup("autotls_dns_setting") == nil {
		fs.Var(new(settingsFlag), "autotls_dns_setting", "A setting of -autotls_dns_provider, KEY=VALUE (repeatable); secrets as KEY_file=PATH.")
	}
}

func capitalize(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// fromFlags collects the flags set on fs's command line; flags left at
// their defaults are not a source.
func fromFlags(fs *flag.FlagSet, read readFunc) ([]assignment, error) {
	if fs == nil {
		return nil, nil
	}
	var out []assignment
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err != nil {
			return
		}
		var as []assignment
		as, err = flagAssignments(f, read)
		out = append(out, as...)
	})
	return out, err
}

func flagAssignments(f *flag.Flag, read readFunc) ([]assignment, error) {
	source := "flag -" + f.Name
	if f.Name == "autotls_dns_setting" {
		return dnsSettingFlags(f, read)
	}
	for _, s := range settings() {
		switch {
		case s.secret && f.Name == s.flag+"_file":
			a, err := secretFromFile(read, s.key, f.Value.String(), source)
			return []assignment{a}, err
		case !s.secret && f.Name == s.flag:
			v, err := parseText(s.kind, f.Value.String())
			if err != nil {
				return nil, &Error{Source: source, Field: s.key, Value: f.Value.String(), Problem: err.Error(), Fix: "give " + s.kind.String()}
			}
			return []assignment{{key: s.key, value: v, source: source}}, nil
		}
	}
	return nil, nil // nats-server's flags and the binary's commands
}

func dnsSettingFlags(f *flag.Flag, read readFunc) ([]assignment, error) {
	source := "flag -" + f.Name
	vals, _ := f.Value.(*settingsFlag)
	if vals == nil {
		return nil, nil
	}
	var out []assignment
	for _, kv := range *vals {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return nil, &Error{Source: source, Field: "dns.settings", Value: kv, Problem: "not KEY=VALUE", Fix: "write -autotls_dns_setting api_token_file=/run/secrets/token"}
		}
		key := "dns.settings." + k
		if base, ok := strings.CutSuffix(key, "_file"); ok {
			a, err := secretFromFile(read, base, v, source)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
			continue
		}
		out = append(out, assignment{key: key, value: v, source: fmt.Sprintf("%s %s", source, k)})
	}
	return out, nil
}
