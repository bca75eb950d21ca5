package config

import (
	"encoding/base64"
	"errors"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-autotls/autotls/acme/dnsprovider"
)

// validate checks the layered configuration; each error names the source
// of the offending value.
func (c *Config) validate(reg *dnsprovider.Registry) error {
	for _, check := range []func() error{
		c.checkNames, c.checkKeyTypes, c.checkAddrs, c.checkACME, c.checkEAB,
		func() error { return c.checkDNS(reg) }, c.checkWildcards, c.checkCA, c.checkKV,
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// fail builds the error for key, naming its source.
func (c *Config) fail(key, value, problem, fix string) *Error {
	src, ok := c.Sources[key]
	if !ok {
		src = "default"
	}
	return &Error{Source: src, Field: key, Value: value, Problem: problem, Fix: fix}
}

func (c *Config) checkNames() error {
	for _, n := range c.Names {
		if !validName(n) {
			return c.fail("names", n, "not a DNS name, wildcard or IP address", "write names such as nats.example.com, *.example.com or 192.0.2.1")
		}
	}
	for _, role := range slices.Sorted(mapsKeys(c.Roles)) {
		for _, n := range c.Roles[role].Names {
			if !validName(n) {
				return c.fail("roles."+role+".names", n, "not a DNS name, wildcard or IP address", "write names such as nats.example.com")
			}
		}
	}
	return nil
}

func (c *Config) checkKeyTypes() error {
	if !validKeyType(c.KeyType) {
		return c.fail("key_type", c.KeyType, "unknown key type", "use "+strings.Join(keyTypes(), ", "))
	}
	for _, role := range slices.Sorted(mapsKeys(c.Roles)) {
		if kt := c.Roles[role].KeyType; !validKeyType(kt) {
			return c.fail("roles."+role+".key_type", kt, "unknown key type", "use "+strings.Join(keyTypes(), ", "))
		}
	}
	return nil
}

func keyTypes() []string { return []string{"p256", "p384", "rsa2048", "rsa3072", "rsa4096", "ed25519"} }

func validKeyType(kt string) bool { return kt == "" || slices.Contains(keyTypes(), kt) }

func (c *Config) checkAddrs() error {
	for _, a := range []struct{ key, value string }{{"status", c.Status}, {"http01", c.HTTP01}} {
		if a.value == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(a.value); err != nil || !validPort(port) {
			return c.fail(a.key, a.value, "not an address", `write HOST:PORT, such as "127.0.0.1:8080" or ":80"`)
		}
	}
	for _, r := range c.DNS.Resolvers {
		host := r
		if h, port, err := net.SplitHostPort(r); err == nil {
			if !validPort(port) {
				return c.fail("dns.resolvers", r, "bad port", `write "host" or "host:port"`)
			}
			host = h
		}
		if host == "" || strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return c.fail("dns.resolvers", r, "not a resolver address", `write "host" or "host:port"`)
		}
	}
	return nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

func (c *Config) checkACME() error {
	a := c.ACME
	if a.Directory == "" {
		for _, k := range []string{"acme.email", "acme.profile", "acme.eab.kid", "acme.eab.hmac_key", "acme.agree_tos", "acme.dns_persist", "acme.tls_alpn", "acme.fallback"} {
			if _, set := c.Sources[k]; set && k != "acme.agree_tos" {
				return c.fail(k, "", "set without acme.directory", "set acme.directory (an ACME CA), or remove it")
			}
		}
		return nil
	}
	if !validDirectory(a.Directory) {
		return c.fail("acme.directory", a.Directory, "not an https URL", `give the CA's directory URL (https://...), "letsencrypt" or "letsencrypt-staging"`)
	}
	for _, d := range a.Fallback {
		if !validDirectory(d) || d == a.Directory {
			return c.fail("acme.fallback", d, "not an https URL other than acme.directory", `give another CA's directory URL (https://...), "letsencrypt" or "letsencrypt-staging"`)
		}
	}
	if a.DNSPersist && c.DNS.Enabled() {
		return c.fail("acme.dns_persist", "true", "set together with dns.provider or dns.hook", "use dns-persist-01 (no DNS writes) or dns-01, not both")
	}
	if !a.AgreeTOS {
		e := c.fail("acme.agree_tos", "", "the CA's terms of service are not agreed to", "read them, then set "+how("acme.agree_tos", "true"))
		if _, set := c.Sources["acme.agree_tos"]; !set {
			e.Source = c.Sources["acme.directory"]
			e.Problem = "acme.directory " + strconv.Quote(a.Directory) + " is set but " + e.Problem
		}
		return e
	}
	if len(c.Names) == 0 && len(c.Roles) == 0 {
		e := c.fail("names", "", "no names for the ACME CA to certify: none given and none derived from the listeners (client_advertise, websocket/leafnodes/cluster/gateway advertise, server_name)",
			"set "+how("names", "nats.example.com"))
		e.Source = c.Sources["acme.directory"]
		return e
	}
	if a.Email != "" {
		if addr, err := mail.ParseAddress(a.Email); err != nil || addr.Address != a.Email {
			return c.fail("acme.email", a.Email, "not an e-mail address", "write it as name@example.com")
		}
	} else if needsEmail(a.Directory) && a.EABKeyID == "" {
		e := c.fail("acme.email", "", "this CA requires a contact e-mail (or External Account Binding)", "set "+how("acme.email", "name@example.com"))
		e.Source = c.Sources["acme.directory"]
		return e
	}
	return nil
}

// validDirectory reports whether d is an https URL or a known CA's name.
func validDirectory(d string) bool {
	switch d {
	case "letsencrypt", "letsencrypt-staging":
		return true
	}
	u, err := url.Parse(d)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// needsEmail reports whether the CA refuses accounts without a contact
// e-mail when no EAB is given: ZeroSSL obtains EAB credentials from it.
func needsEmail(directory string) bool {
	u, err := url.Parse(directory)
	return err == nil && (u.Hostname() == "acme.zerossl.com" || strings.HasSuffix(u.Hostname(), ".zerossl.com"))
}

func (c *Config) checkEAB() error {
	a := c.ACME
	if (a.EABKeyID == "") != (a.EABHMACKey == "") {
		if a.EABKeyID == "" {
			e := c.fail("acme.eab.kid", "", "missing while acme.eab.hmac_key is set", "give both, as the CA issued them")
			e.Source = c.Sources["acme.eab.hmac_key"]
			return e
		}
		e := c.fail("acme.eab.hmac_key", "", "missing while acme.eab.kid is set", "give both; the key from a file with hmac_key_file, NATS_AUTOTLS_ACME_EAB_HMAC_KEY_FILE or -autotls_eab_hmac_key_file")
		e.Source = c.Sources["acme.eab.kid"]
		return e
	}
	if a.EABHMACKey != "" {
		if _, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(a.EABHMACKey, "=")); err != nil {
			return c.fail("acme.eab.hmac_key", "", "not base64url", "give the key exactly as the CA issued it")
		}
	}
	return nil
}

func (c *Config) checkDNS(reg *dnsprovider.Registry) error {
	d := c.DNS
	if d.Provider != "" && d.Hook != "" {
		return c.fail("dns.hook", d.Hook, "set together with dns.provider "+strconvQuote(d.Provider), "use one of them")
	}
	if d.Provider == "" {
		if len(d.Settings) > 0 {
			k := slices.Sorted(mapsKeys(d.Settings))[0]
			return c.fail("dns.settings."+k, "", "set without dns.provider", "set dns.provider")
		}
		return nil
	}
	if _, ok := reg.Lookup(d.Provider); !ok && !reg.All() {
		return c.fail("dns.provider", d.Provider, "unknown DNS provider", "use one of "+strings.Join(reg.Names(), ", ")+" (or a binary built with -tags autotls_alldns)")
	}
	if err := c.checkCommandLineSecrets(reg); err != nil {
		return err
	}
	err := reg.Check(d.Provider, d.Settings)
	var unknown *dnsprovider.UnknownFieldError
	var missing *dnsprovider.MissingFieldError
	var invalid *dnsprovider.InvalidFieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &unknown):
		e := c.fail("dns.settings."+unknown.Field, "", "", "")
		e.Err = err
		return e
	case errors.As(err, &missing):
		e := c.fail("dns.provider", d.Provider, "", "")
		e.Problem = "missing setting " + missing.Field.Key
		e.Fix = "set dns.settings." + missing.Field.Key + " (or " + missing.Field.Key + "_file) in the autotls block, " +
			EnvPrefix + "DNS_SETTINGS_" + strings.ToUpper(missing.Field.Key) + "[_FILE], or " + missing.Field.Env + "[_FILE]"
		if missing.Alternatives != "" {
			e.Fix += " (" + missing.Alternatives + ")"
		}
		return e
	case errors.As(err, &invalid):
		e := c.fail("dns.settings."+invalid.Field, invalid.Value, invalid.Reason, "")
		return e
	}
	return c.fail("dns.provider", d.Provider, err.Error(), "")
}

// checkCommandLineSecrets refuses a provider secret written literally on
// the command line, where every user of the host can read it.
func (c *Config) checkCommandLineSecrets(reg *dnsprovider.Registry) error {
	p, ok := reg.Lookup(c.DNS.Provider)
	if !ok {
		return nil
	}
	for _, f := range p.Fields {
		src := c.Sources["dns.settings."+f.Key]
		if f.Secret && strings.HasPrefix(src, "flag ") && !strings.Contains(src, "(file ") {
			return &Error{Source: src, Field: "dns.settings." + f.Key, Problem: "a secret on the command line is visible to every user of the host",
				Fix: "write -autotls_dns_setting " + f.Key + "_file=PATH, or use the environment"}
		}
	}
	return nil
}

// privateRole reports whether a role of the roles block always takes its
// certificate from the private CA (routes, gateways and leafnode remotes
// need the clientAuth usage that public CAs no longer issue).
func privateRole(role string) bool {
	switch role {
	case "cluster", "gateway", "leafnode_remote":
		return true
	}
	return false
}

// checkWildcards refuses wildcards that http-01 cannot prove on the roles
// an ACME CA certifies.
func (c *Config) checkWildcards() error {
	if c.ACME.Directory == "" || c.DNS.Enabled() || c.ACME.DNSPersist {
		return nil
	}
	check := func(key string, names []string) error {
		for _, n := range names {
			if strings.HasPrefix(n, "*.") {
				return c.fail(key, n, "a wildcard needs the dns-01 challenge; http-01 cannot prove it", "set dns.provider (or dns.hook) or acme.dns_persist, or list the names one by one")
			}
		}
		return nil
	}
	if err := check("names", c.Names); err != nil {
		return err
	}
	for _, role := range slices.Sorted(mapsKeys(c.Roles)) {
		if privateRole(role) {
			continue // always signed by the private CA, which signs wildcards
		}
		if err := check("roles."+role+".names", c.Roles[role].Names); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) checkCA() error {
	ca := c.CA
	if (ca.Cert == "") != (ca.Key == "") {
		if ca.Cert == "" {
			return c.fail("ca.key", ca.Key, "set without ca.cert", "give the CA's certificate and key, or neither")
		}
		return c.fail("ca.cert", ca.Cert, "set without ca.key", "give the CA's certificate and key, or neither")
	}
	if ca.Trust != "" && ca.Cert == "" {
		return c.fail("ca.trust", ca.Trust, "set without ca.cert", "it adds to a shared CA: set ca.cert and ca.key")
	}
	return nil
}

func (c *Config) checkKV() error {
	if c.KV.URL == "" {
		for _, k := range []string{"kv.creds", "kv.ca", "kv.bucket"} {
			if _, set := c.Sources[k]; set {
				return c.fail(k, "", "set without kv.url", "set kv.url, or remove it")
			}
		}
		return nil
	}
	for _, u := range strings.Split(c.KV.URL, ",") {
		if _, err := url.Parse(strings.TrimSpace(u)); err != nil {
			return c.fail("kv.url", "", "not a URL", "write nats://host:4222")
		}
	}
	return nil
}

// how says every way to set key to value.
func how(key, value string) string {
	s, _ := lookupSetting(key)
	out := key + ": " + value + " in the autotls block, " + s.env() + "=" + value
	if s.flag != "" {
		out += " or -" + s.flag
		if s.kind != kBool {
			out += " " + value
		}
	}
	return out
}

// validName reports whether n is a DNS name, a wildcard of one, or an IP.
func validName(n string) bool {
	if net.ParseIP(n) != nil {
		return true
	}
	return isDNSName(strings.TrimPrefix(n, "*."))
}

// isDNSName reports whether s is a host name: labels of letters, digits
// and inner hyphens, at most 63 bytes each and 253 in all.
func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 || net.ParseIP(s) != nil {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func strconvQuote(s string) string { return strconv.Quote(s) }

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
