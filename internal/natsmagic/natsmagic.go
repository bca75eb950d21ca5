package natsmagic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Document is natsmagic's JSON configuration format.
type Document struct {
	NATSConfig        map[string]any         `json:"nats_config"`
	LoggingPreset     *string                `json:"logging_preset"`
	Email             *string                `json:"letsencrypt_email"`
	CA                *string                `json:"letsencrypt_ca"`
	Provider          *string                `json:"letsencrypt_dns_provider"`
	DataDir           *string                `json:"letsencrypt_data_dir"`
	DNSAuth           map[string]string      `json:"letsencrypt_dns_auth"`
	Domains           []string               `json:"domains"`
	StandardDomains   []string               `json:"standard_domains"`
	LeafnodeDomains   []string               `json:"leafnode_domains"`
	MonitoringDomains []string               `json:"monitoring_domains"`
	WebsocketDomains  []string               `json:"websocket_domains"`
	MQTTDomains       []string               `json:"mqtt_domains"`
	RemoteUsers       map[string]*RemoteUser `json:"remote_users"`
}

// RemoteUser is a leafnode remote's user: its JWT and nkey seed.
type RemoteUser struct {
	Nkey  string `json:"nkey"`
	Token string `json:"token"`
}

// Config is natsmagic's configuration after every source, each value with
// the source it came from.
type Config struct {
	Fields map[string]Field // by JSON name ("letsencrypt_email")
	// NATSConfig is nats_config, the whole NATS configuration; nil if none.
	NATSConfig map[string]any
	// NATSConfigSource says where nats_config came from.
	NATSConfigSource string
	// RemoteUsers are the leafnode remote users by account.
	RemoteUsers map[string]*RemoteUser
}

// Field is one value with its source.
type Field struct {
	Value  any // string or []string
	Source string
}

// Input is what Load reads.
type Input struct {
	// Environ is the environment, as os.Environ returns it.
	Environ []string
	// Fetcher fetches NATS_MAGIC_URL. Nil means a Fetcher with defaults.
	Fetcher *Fetcher
	// ReadFile reads NATS_MAGIC_FILE. Nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

// envDomains maps natsmagic's domain variables to JSON fields.
func envFields() map[string]string {
	return map[string]string{
		"NATS_MAGIC_DOMAINS":            "domains",
		"NATS_MAGIC_STANDARD_DOMAINS":   "standard_domains",
		"NATS_MAGIC_LEAFNODE_DOMAINS":   "leafnode_domains",
		"NATS_MAGIC_MONITORING_DOMAINS": "monitoring_domains",
		"NATS_MAGIC_WEBSOCKET_DOMAINS":  "websocket_domains",
		"NATS_MAGIC_MQTT_DOMAINS":       "mqtt_domains",
		"NATS_MAGIC_EMAIL":              "letsencrypt_email",
		"NATS_MAGIC_CA":                 "letsencrypt_ca",
		"NATS_MAGIC_PROVIDER":           "letsencrypt_dns_provider",
		"NATS_LOGGING_PRESET":           "logging_preset",
	}
}

// controlVars are the variables that say where the configuration is.
func controlVars() []string {
	return []string{"NATS_MAGIC_FILE", "NATS_MAGIC_URL", "NATS_MAGIC_SERVER", "NATS_MAGIC_INSECURE"}
}

// Used reports whether environ holds any natsmagic variable.
func Used(environ []string) bool {
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "NATS_MAGIC_") || name == "NATS_LOGGING_PRESET" {
			return true
		}
	}
	return false
}

// Load reads natsmagic's configuration: the environment, then the
// document at NATS_MAGIC_URL, then the file at NATS_MAGIC_FILE. A
// NATS_MAGIC_* variable natsmagic did not have is an error.
func Load(ctx context.Context, in Input) (*Config, error) {
	env := map[string]string{}
	for _, kv := range in.Environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	c := &Config{Fields: map[string]Field{}}
	fields := envFields()
	for name, v := range env {
		field, known := fields[name]
		switch {
		case known && v != "":
			c.Fields[field] = Field{Value: envValue(field, v), Source: "env " + name}
		case strings.HasPrefix(name, "NATS_MAGIC_") && !known && !slices.Contains(controlVars(), name):
			return nil, fmt.Errorf("env %s: unknown natsmagic variable: use one of NATS_MAGIC_DOMAINS, NATS_MAGIC_EMAIL, NATS_MAGIC_CA, NATS_MAGIC_PROVIDER, NATS_MAGIC_FILE, NATS_MAGIC_URL, NATS_MAGIC_SERVER, NATS_MAGIC_INSECURE or NATS_MAGIC_<ROLE>_DOMAINS", name)
		}
	}
	if u := env["NATS_MAGIC_URL"]; u != "" {
		f := in.Fetcher
		if f == nil {
			f = &Fetcher{}
		}
		insecure, err := parseInsecure(env["NATS_MAGIC_INSECURE"])
		if err != nil {
			return nil, err
		}
		body, err := f.Fetch(ctx, u, env["NATS_MAGIC_SERVER"], insecure)
		if err != nil {
			if strings.HasPrefix(err.Error(), "env ") {
				return nil, err
			}
			return nil, fmt.Errorf("env NATS_MAGIC_URL: %w", err)
		}
		if err := c.merge(body, "NATS_MAGIC_URL "+redactURL(u)); err != nil {
			return nil, err
		}
	} else if env["NATS_MAGIC_SERVER"] != "" {
		return nil, fmt.Errorf("env NATS_MAGIC_SERVER: set without NATS_MAGIC_URL: set the config server's URL, or remove the seed")
	}
	if path := env["NATS_MAGIC_FILE"]; path != "" {
		read := in.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		body, err := read(path)
		if err != nil {
			return nil, fmt.Errorf("env NATS_MAGIC_FILE: %w: give the path of a natsmagic JSON file", err)
		}
		if err := c.merge(body, "NATS_MAGIC_FILE "+path); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func parseInsecure(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, fmt.Errorf("env NATS_MAGIC_INSECURE: %q: not true or false", v)
}

func envValue(field, v string) any {
	if strings.HasSuffix(field, "domains") {
		var out []string
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				out = append(out, d)
			}
		}
		return out
	}
	return v
}

// merge applies a JSON document over c: the fields it has replace c's.
func (c *Config) merge(body []byte, source string) error {
	var d Document
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return fmt.Errorf("%s: not a natsmagic document: %w: fix the JSON (fields: domains, <role>_domains, letsencrypt_email, letsencrypt_ca, letsencrypt_dns_provider, letsencrypt_dns_auth, letsencrypt_data_dir, nats_config, remote_users, logging_preset)", source, err)
	}
	set := func(field string, v any) { c.Fields[field] = Field{Value: v, Source: source + ": " + field} }
	for field, p := range map[string]*string{"logging_preset": d.LoggingPreset, "letsencrypt_email": d.Email,
		"letsencrypt_ca": d.CA, "letsencrypt_dns_provider": d.Provider, "letsencrypt_data_dir": d.DataDir} {
		if p != nil {
			set(field, *p)
		}
	}
	for field, v := range map[string][]string{"domains": d.Domains, "standard_domains": d.StandardDomains,
		"leafnode_domains": d.LeafnodeDomains, "monitoring_domains": d.MonitoringDomains,
		"websocket_domains": d.WebsocketDomains, "mqtt_domains": d.MQTTDomains} {
		if v != nil {
			set(field, v)
		}
	}
	if d.DNSAuth != nil {
		set("letsencrypt_dns_auth", d.DNSAuth)
	}
	if d.NATSConfig != nil {
		c.NATSConfig, c.NATSConfigSource = d.NATSConfig, source+": nats_config"
	}
	if d.RemoteUsers != nil {
		c.RemoteUsers = d.RemoteUsers
	}
	return nil
}

// fetchTimeout is the default bound of one request to the config server.
const fetchTimeout = 10 * time.Second
