package natsmagic

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nats-autotls/autotls/acme/dnsprovider"
	"github.com/nats-autotls/autotls/internal/config"
)

// providerNames maps natsmagic's provider names to the registry's.
func providerName(name string) string {
	if strings.EqualFold(name, "azure") {
		return "azuredns"
	}
	return strings.ToLower(name)
}

// aliases are credential variables natsmagic read that differ from lego's
// documented ones, by provider: variable → setting key.
func aliases(provider string) map[string]string {
	switch provider {
	case "digitalocean":
		return map[string]string{"DO_TOKEN": "auth_token"}
	case "azuredns":
		return map[string]string{"AZURE_RESOURCE_GROUP_NAME": "resource_group"}
	}
	return nil
}

// Values turns the configuration into values of the binary's
// configuration (see config.Input.Base). reg resolves the DNS provider's
// settings; environ supplies the credential variables natsmagic read
// under other names than lego's (DO_TOKEN, AZURE_RESOURCE_GROUP_NAME).
func (c *Config) Values(reg *dnsprovider.Registry, environ []string, read func(string) ([]byte, error)) ([]config.Value, error) {
	if !c.enabled() {
		// natsmagic managed no certificate without domains; a setting
		// that would have been ignored is refused instead.
		for _, field := range []string{"letsencrypt_email", "letsencrypt_ca", "letsencrypt_dns_provider", "letsencrypt_dns_auth", "letsencrypt_data_dir"} {
			if f, ok := c.Fields[field]; ok {
				return nil, fmt.Errorf("%s: set without any domains: natsmagic would ignore it: set domains (NATS_MAGIC_DOMAINS), or remove it", f.Source)
			}
		}
		return nil, nil
	}
	var out []config.Value
	add := func(key string, v any, src string) { out = append(out, config.Value{Key: key, Value: v, Source: src}) }
	str := func(field string) (string, string, bool) {
		f, ok := c.Fields[field]
		if !ok {
			return "", "", false
		}
		s, _ := f.Value.(string)
		return s, f.Source, true
	}
	list := func(field string) ([]string, string, bool) {
		f, ok := c.Fields[field]
		if !ok {
			return nil, "", false
		}
		l, _ := f.Value.([]string)
		return l, f.Source, true
	}

	domains, dsrc, hasDomains := list("domains")
	if hasDomains {
		add("names", domains, dsrc)
	}
	for field, role := range map[string]string{"standard_domains": "client", "leafnode_domains": "leafnode",
		"websocket_domains": "websocket", "mqtt_domains": "mqtt"} {
		if l, src, ok := list(field); ok && len(l) > 0 {
			add("roles."+role+".names", l, src)
		}
	}
	// HTTPS monitoring serves the client listener's certificate.
	if mon, src, ok := list("monitoring_domains"); ok && len(mon) > 0 {
		client, _, _ := list("standard_domains")
		if len(client) == 0 {
			client = domains
		}
		add("roles.client.names", union(client, mon), src)
	}

	ca, casrc, ok := str("letsencrypt_ca")
	if !ok || ca == "" {
		ca, casrc = "letsencrypt", "natsmagic default letsencrypt_ca"
	}
	add("acme.directory", ca, casrc)
	add("acme.agree_tos", true, "natsmagic (terms agreed implicitly)")
	if v, src, ok := str("letsencrypt_email"); ok && v != "" {
		add("acme.email", v, src)
	}
	if v, src, ok := str("letsencrypt_data_dir"); ok && v != "" {
		add("storage", v, src)
	}
	// natsmagic's production preset logged JSON lines; development, text.
	if v, src, ok := str("logging_preset"); ok {
		add("log_json", v == "production", src)
	}
	dns, err := c.dnsValues(reg, environ, read)
	if err != nil {
		return nil, err
	}
	return append(out, dns...), nil
}

// enabled reports whether any domains are set: natsmagic managed
// certificates only then.
func (c *Config) enabled() bool {
	for field, f := range c.Fields {
		if strings.HasSuffix(field, "domains") {
			if l, _ := f.Value.([]string); len(l) > 0 {
				return true
			}
		}
	}
	return false
}

// dnsValues maps the provider and letsencrypt_dns_auth to dns.provider
// and dns.settings. natsmagic solved every challenge over dns-01.
func (c *Config) dnsValues(reg *dnsprovider.Registry, environ []string, read func(string) ([]byte, error)) ([]config.Value, error) {
	pf, ok := c.Fields["letsencrypt_dns_provider"]
	name, _ := pf.Value.(string)
	if !ok || name == "" {
		return nil, fmt.Errorf("natsmagic: letsencrypt_dns_provider (NATS_MAGIC_PROVIDER) is not set: set it to digitalocean, azure, route53 or another provider name (natsmagic silently assumed digitalocean)")
	}
	provider := providerName(name)
	p, known := reg.Lookup(provider)
	if !known && !reg.All() {
		return nil, fmt.Errorf("%s: unknown DNS provider %q: use one of %s", pf.Source, name, strings.Join(reg.Names(), ", "))
	}
	out := []config.Value{{Key: "dns.provider", Value: provider, Source: pf.Source}}
	if auth, ok := c.Fields["letsencrypt_dns_auth"]; ok {
		m := auth.Value.(map[string]string)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			key, ok := settingKey(p, provider, k)
			if !ok {
				return nil, fmt.Errorf("%s: key %q is not a setting of provider %s: use %s", auth.Source, k, provider, strings.Join(envNames(p), ", "))
			}
			out = append(out, config.Value{Key: "dns.settings." + key, Value: m[k], Source: auth.Source + "." + k, Secret: true})
		}
	}
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for variable, key := range aliases(provider) {
		if v := env[variable]; v != "" {
			out = append(out, config.Value{Key: "dns.settings." + key, Value: v, Source: "env " + variable, Secret: true})
		} else if path := env[variable+"_FILE"]; path != "" {
			b, err := read(path)
			if err != nil {
				return nil, fmt.Errorf("env %s_FILE: %w: make the file readable", variable, err)
			}
			v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
			out = append(out, config.Value{Key: "dns.settings." + key, Value: v, Source: "env " + variable + "_FILE", Secret: true})
		}
	}
	return out, nil
}

// settingKey finds the provider setting a letsencrypt_dns_auth key names:
// lego's variable in any case ("do_auth_token"), one of natsmagic's
// aliases ("do_token"), or the setting's own key ("auth_token").
func settingKey(p dnsprovider.Provider, provider, k string) (string, bool) {
	up := strings.ToUpper(k)
	for _, f := range p.Fields {
		if f.Env == up || f.Key == strings.ToLower(k) {
			return f.Key, true
		}
	}
	key, ok := aliases(provider)[up]
	return key, ok
}

func envNames(p dnsprovider.Provider) []string {
	out := make([]string, len(p.Fields))
	for i, f := range p.Fields {
		out[i] = strings.ToLower(f.Env)
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
