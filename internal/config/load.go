package config

import (
	"flag"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/nats-autotls/autotls/acme/dnsprovider"
)

// Input names the sources of a configuration.
type Input struct {
	// ConfigFile is nats.conf, whose autotls block is read. Empty means
	// no file.
	ConfigFile string

	// Environ is the environment as os.Environ returns it: the NATS_AUTOTLS_*
	// variables, and the documented variables of the chosen DNS provider.
	// Nil means none.
	Environ []string

	// Flags is the parsed command line, with [RegisterFlags]' flags: only
	// the flags set on it count. Nil means none.
	Flags *flag.FlagSet

	// Options are nats-server's options from the same file and flags: the
	// names of the certificates default to the listeners' advertised names.
	// Nil means no names are derived.
	Options *server.Options

	// Providers checks the DNS provider's settings. Nil means
	// dnsprovider.New().
	Providers *dnsprovider.Registry

	// ReadFile reads secret files. Nil means os.ReadFile.
	ReadFile func(path string) ([]byte, error)

	// Base are values from another configuration format (natsmagic's),
	// layered over the file and under the environment and the flags.
	Base []Value
}

// Value is one setting's value from a source other than the three Load
// reads, such as natsmagic's configuration.
type Value struct {
	// Key is the setting's key in the autotls block ("acme.email",
	// "dns.settings.auth_token", "roles.websocket.names").
	Key string
	// Value is a string, a bool, a []string or a time.Duration, as the
	// setting's type is.
	Value any
	// Source names where it came from ("env NATS_MAGIC_EMAIL").
	Source string
	// Secret marks a credential: never shown in errors.
	Secret bool
}

// Load builds the configuration from its sources, later ones winning:
// defaults < the DNS provider's own environment variables < the autotls
// block of the configuration file < NATS_AUTOTLS_* variables < flags. It
// reads every secret file, derives the names from the listeners when none
// are given, and validates everything; it opens nothing and contacts
// nobody. An error is an *[Error] naming the source, the setting, the
// value and the fix, or nats-server's own error for the rest of the file.
func Load(in Input) (*Config, error) {
	fileA, err := fromFile(in.ConfigFile, in.ReadFile)
	if err != nil {
		return nil, err
	}
	envA, err := fromEnv(in.Environ, in.ReadFile)
	if err != nil {
		return nil, err
	}
	flagA, err := fromFlags(in.Flags, in.ReadFile)
	if err != nil {
		return nil, err
	}
	baseA, err := fromValues(in.Base)
	if err != nil {
		return nil, err
	}
	cfg := &Config{Sources: make(map[string]string)}
	for _, layer := range [][]assignment{fileA, baseA, envA, flagA} {
		for _, a := range layer {
			cfg.assign(a)
		}
	}
	reg := in.Providers
	if reg == nil {
		reg = dnsprovider.New()
	}
	if err := cfg.providerEnv(reg, in.Environ, in.ReadFile); err != nil {
		return nil, err
	}
	cfg.deriveNames(in.Options)
	if err := cfg.validate(reg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// fromValues checks the keys and types of values given by another format.
func fromValues(vs []Value) ([]assignment, error) {
	out := make([]assignment, 0, len(vs))
	for _, v := range vs {
		a := assignment{key: v.Key, value: v.Value, source: v.Source, secret: v.Secret}
		switch {
		case strings.HasPrefix(v.Key, "dns.settings."):
			if _, ok := v.Value.(string); !ok {
				return nil, &Error{Source: v.Source, Field: v.Key, Problem: "is not a string", Fix: "give a string"}
			}
		case strings.HasPrefix(v.Key, "roles."):
			parts := strings.Split(v.Key, ".")
			if _, ok := v.Value.([]string); !ok || len(parts) != 3 || parts[2] != "names" || !slices.Contains(roleNames(), parts[1]) {
				return nil, &Error{Source: v.Source, Field: v.Key, Problem: "not a role's names", Fix: "give a list of names for a known role"}
			}
		default:
			s, ok := lookupSetting(v.Key)
			if !ok {
				return nil, &Error{Source: v.Source, Field: v.Key, Problem: "unknown setting"}
			}
			if _, err := parseTree(s.kind, toTree(v.Value)); err != nil {
				return nil, &Error{Source: v.Source, Field: v.Key, Problem: err.Error(), Fix: "give " + s.kind.String()}
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// toTree turns a Go value into the configuration tree's form, for type
// checks.
func toTree(v any) any {
	switch v := v.(type) {
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	case time.Duration:
		return v.String()
	}
	return v
}

// assign stores one value, replacing what an earlier source gave.
func (c *Config) assign(a assignment) {
	c.Sources[a.key] = a.source
	switch {
	case strings.HasPrefix(a.key, "dns.settings."):
		if c.DNS.Settings == nil {
			c.DNS.Settings = make(map[string]string)
		}
		c.DNS.Settings[strings.TrimPrefix(a.key, "dns.settings.")] = a.value.(string)
	case strings.HasPrefix(a.key, "roles."):
		parts := strings.Split(a.key, ".")
		if c.Roles == nil {
			c.Roles = make(map[string]Role)
		}
		r := c.Roles[parts[1]]
		if parts[2] == "key_type" {
			r.KeyType = a.value.(string)
		} else {
			r.Names = a.value.([]string)
		}
		c.Roles[parts[1]] = r
	default:
		s, _ := lookupSetting(a.key)
		s.apply(c, a.value)
	}
}

// providerEnv fills the chosen provider's settings that no source gave
// from the provider's documented variables (DO_AUTH_TOKEN, and its _FILE
// form), as lego reads them.
func (c *Config) providerEnv(reg *dnsprovider.Registry, environ []string, read readFunc) error {
	p, ok := reg.Lookup(c.DNS.Provider)
	if !ok {
		return nil
	}
	env := make(map[string]string)
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for _, f := range p.Fields {
		if _, set := c.DNS.Settings[f.Key]; set {
			continue
		}
		var a assignment
		if v, ok := env[f.Env]; ok && v != "" {
			a = assignment{key: "dns.settings." + f.Key, value: v, source: "env " + f.Env}
		} else if path, ok := env[f.Env+"_FILE"]; ok && path != "" {
			var err error
			if a, err = secretFromFile(read, "dns.settings."+f.Key, path, "env "+f.Env+"_FILE"); err != nil {
				return err
			}
		} else {
			continue
		}
		c.assign(a)
	}
	return nil
}

// deriveNames sets Names, when no source gave any, to the DNS names the
// listeners advertise and the server name if it is a DNS name.
func (c *Config) deriveNames(o *server.Options) {
	if len(c.Names) > 0 || o == nil {
		return
	}
	for _, cand := range []struct{ field, value string }{
		{"client_advertise", o.ClientAdvertise},
		{"websocket.advertise", o.Websocket.Advertise},
		{"leafnodes.advertise", o.LeafNode.Advertise},
		{"cluster.advertise", o.Cluster.Advertise},
		{"gateway.advertise", o.Gateway.Advertise},
		{"server_name", o.ServerName},
	} {
		host := cand.value
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !isDNSName(host) || !strings.Contains(host, ".") || containsFold(c.Names, host) {
			continue
		}
		c.Names = append(c.Names, strings.ToLower(host))
		if _, ok := c.Sources["names"]; !ok {
			c.Sources["names"] = "derived from " + cand.field
		}
	}
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}
