package config

import (
	"strings"
	"time"
)

// kind is the type of a setting's value.
type kind int

const (
	kString kind = iota
	kBool
	kList     // a list in the file, comma-separated in env and flags
	kDuration // "30s" or a number of seconds
)

func (k kind) String() string {
	return [...]string{"a string", "true or false", "a list of strings", `a duration such as "30s"`}[k]
}

// setting is one configuration setting, the same in every source.
type setting struct {
	key    string // path in the autotls block: "acme.email"
	flag   string // command-line flag without the dash; "" for none
	kind   kind
	secret bool // may come from a file; never shown in errors or logs
	doc    string
	// apply stores a parsed value in c: a string, bool, []string or
	// time.Duration according to kind.
	apply func(c *Config, v any)
}

// env is the setting's environment variable: NATS_AUTOTLS_ and the key
// in upper case with dots as underscores.
func (s setting) env() string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
}

// EnvPrefix starts every environment variable of the configuration.
const EnvPrefix = "NATS_AUTOTLS_"

func str(f func(*Config) *string) func(*Config, any) {
	return func(c *Config, v any) { *f(c) = v.(string) }
}

func boolean(f func(*Config) *bool) func(*Config, any) {
	return func(c *Config, v any) { *f(c) = v.(bool) }
}

func list(f func(*Config) *[]string) func(*Config, any) {
	return func(c *Config, v any) { *f(c) = v.([]string) }
}

func duration(f func(*Config) *time.Duration) func(*Config, any) {
	return func(c *Config, v any) { *f(c) = v.(time.Duration) }
}

// settings returns the table of every scalar setting. The DNS provider's
// settings (dns.settings) and the roles are maps, handled apart.
func settings() []setting {
	return []setting{
		{key: "names", flag: "autotls_names", kind: kList, doc: "DNS names, wildcards and IPs of this server", apply: list(func(c *Config) *[]string { return &c.Names })},
		{key: "storage", flag: "autotls_storage", doc: "storage directory", apply: str(func(c *Config) *string { return &c.Storage })},
		{key: "key_type", flag: "autotls_key_type", doc: "key algorithm of new certificates: p256, p384, rsa2048, rsa3072, rsa4096, ed25519", apply: str(func(c *Config) *string { return &c.KeyType })},
		{key: "background", flag: "autotls_background", kind: kBool, doc: "serve before certificates are obtained", apply: boolean(func(c *Config) *bool { return &c.Background })},
		{key: "log_json", flag: "autotls_log_json", kind: kBool, doc: "write the log as JSON lines", apply: boolean(func(c *Config) *bool { return &c.LogJSON })},
		{key: "status", flag: "autotls_status", doc: "status endpoint address host:port", apply: str(func(c *Config) *string { return &c.Status })},
		{key: "acme.directory", flag: "autotls_acme", doc: `ACME directory URL, "letsencrypt" or "letsencrypt-staging"`, apply: str(func(c *Config) *string { return &c.ACME.Directory })},
		{key: "acme.email", flag: "autotls_email", doc: "ACME account e-mail", apply: str(func(c *Config) *string { return &c.ACME.Email })},
		{key: "acme.agree_tos", flag: "autotls_agree_tos", kind: kBool, doc: "agree to the CA's terms of service", apply: boolean(func(c *Config) *bool { return &c.ACME.AgreeTOS })},
		{key: "acme.profile", flag: "autotls_profile", doc: "ACME profile", apply: str(func(c *Config) *string { return &c.ACME.Profile })},
		{key: "acme.roots", flag: "autotls_acme_roots", doc: "PEM roots for the directory's HTTPS", apply: str(func(c *Config) *string { return &c.ACME.Roots })},
		{key: "acme.eab.kid", flag: "autotls_eab_kid", doc: "External Account Binding key ID", apply: str(func(c *Config) *string { return &c.ACME.EABKeyID })},
		{key: "acme.eab.hmac_key", flag: "autotls_eab_hmac_key", secret: true, doc: "External Account Binding HMAC key (base64url)", apply: str(func(c *Config) *string { return &c.ACME.EABHMACKey })},
		{key: "acme.dns_persist", flag: "autotls_dns_persist", kind: kBool, doc: "prove names with dns-persist-01 records published once (print them with -autotls_persist_records): no DNS writes, no DNS credentials", apply: boolean(func(c *Config) *bool { return &c.ACME.DNSPersist })},
		{key: "acme.tls_alpn", flag: "autotls_tls_alpn", kind: kBool, doc: "answer tls-alpn-01 on the listener bound to port 443 instead of http-01 on port 80 (the listeners start before the first certificate, as with background)", apply: boolean(func(c *Config) *bool { return &c.ACME.TLSALPN })},
		{key: "acme.fallback", flag: "autotls_acme_fallback", kind: kList, doc: "further ACME directories, tried in order when the first fails (same account settings, no EAB)", apply: list(func(c *Config) *[]string { return &c.ACME.Fallback })},
		{key: "http01", flag: "autotls_http01", doc: "http-01 solver address", apply: str(func(c *Config) *string { return &c.HTTP01 })},
		{key: "dns.provider", flag: "autotls_dns_provider", doc: "DNS provider name for dns-01", apply: str(func(c *Config) *string { return &c.DNS.Provider })},
		{key: "dns.hook", flag: "autotls_dns_hook", doc: "dns-01 hook program", apply: str(func(c *Config) *string { return &c.DNS.Hook })},
		{key: "dns.zone", flag: "autotls_dns_zone", doc: "zone of the dns-01 records, for dns.hook", apply: str(func(c *Config) *string { return &c.DNS.Zone })},
		{key: "dns.resolvers", flag: "autotls_dns_resolvers", kind: kList, doc: "resolvers host:port for the propagation check", apply: list(func(c *Config) *[]string { return &c.DNS.Resolvers })},
		{key: "dns.propagation_timeout", flag: "autotls_dns_propagation_timeout", kind: kDuration, doc: "longest wait for a dns-01 record to be visible (\"2m\")", apply: duration(func(c *Config) *time.Duration { return &c.DNS.PropagationTimeout })},
		{key: "dns.polling_interval", flag: "autotls_dns_polling_interval", kind: kDuration, doc: "pause between two checks of a dns-01 record (\"2s\")", apply: duration(func(c *Config) *time.Duration { return &c.DNS.PollingInterval })},
		{key: "ca.cert", flag: "autotls_ca_cert", doc: "shared private CA certificate (PEM file)", apply: str(func(c *Config) *string { return &c.CA.Cert })},
		{key: "ca.key", flag: "autotls_ca_key", doc: "shared private CA key (PEM file)", apply: str(func(c *Config) *string { return &c.CA.Key })},
		{key: "ca.trust", flag: "autotls_ca_trust", doc: "further CA certificates to trust (PEM file)", apply: str(func(c *Config) *string { return &c.CA.Trust })},
		{key: "ca.bundle_out", flag: "autotls_ca_bundle_out", doc: "trust bundle output file", apply: str(func(c *Config) *string { return &c.CA.BundleOut })},
		{key: "kv.url", flag: "autotls_kv_url", doc: "NATS URL of the key-value storage", apply: str(func(c *Config) *string { return &c.KV.URL })},
		{key: "kv.creds", flag: "autotls_kv_creds", doc: "credentials file for kv.url", apply: str(func(c *Config) *string { return &c.KV.Creds })},
		{key: "kv.ca", flag: "autotls_kv_ca", doc: "PEM roots for kv.url", apply: str(func(c *Config) *string { return &c.KV.CA })},
		{key: "kv.bucket", flag: "autotls_kv_bucket", doc: "bucket for kv.url", apply: str(func(c *Config) *string { return &c.KV.Bucket })},
	}
}

// lookupSetting returns the setting with key.
func lookupSetting(key string) (setting, bool) {
	for _, s := range settings() {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}
