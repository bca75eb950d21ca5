package dnsprovider

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-acme/lego/v4/providers/dns/azuredns"
	"github.com/go-acme/lego/v4/providers/dns/cloudflare"
	"github.com/go-acme/lego/v4/providers/dns/digitalocean"
	"github.com/go-acme/lego/v4/providers/dns/exec"
	"github.com/go-acme/lego/v4/providers/dns/gandiv5"
	"github.com/go-acme/lego/v4/providers/dns/gcloud"
	"github.com/go-acme/lego/v4/providers/dns/hetzner"
	"github.com/go-acme/lego/v4/providers/dns/httpreq"
	"github.com/go-acme/lego/v4/providers/dns/namecheap"
	"github.com/go-acme/lego/v4/providers/dns/ovh"
	"github.com/go-acme/lego/v4/providers/dns/rfc2136"
	"github.com/go-acme/lego/v4/providers/dns/route53"

	"github.com/nats-autotls/autotls/acme"
)

// curated returns the providers compiled into every build. Each fills
// lego's typed Config from Settings; lego's NewDefaultConfig still reads
// the provider's non-secret tunables (TTL, timeouts) from its environment
// variables, as lego documents.
func curated() []Provider {
	return []Provider{
		cloudflareProvider(), route53Provider(), digitaloceanProvider(),
		azurednsProvider(), gcloudProvider(), hetznerProvider(), ovhProvider(),
		gandiv5Provider(), namecheapProvider(), rfc2136Provider(),
		execProvider(), httpreqProvider(),
	}
}

// oneOf fails unless one of the groups of keys is fully set.
func oneOf(p Provider, s Settings, groups ...[]string) error {
	for _, g := range groups {
		all := true
		for _, k := range g {
			all = all && s[k] != ""
		}
		if all {
			return nil
		}
	}
	missing := groups[0][0]
	for _, k := range groups[0] {
		if s[k] == "" {
			missing = k
			break
		}
	}
	f, _ := p.Field(missing)
	if len(groups) == 1 {
		return &MissingFieldError{Provider: p.Name, Field: f, Alternatives: "with " + strings.Join(groups[0], " and ")}
	}
	alts := make([]string, len(groups)-1)
	for i, g := range groups[1:] {
		alts[i] = strings.Join(g, " and ")
	}
	return &MissingFieldError{Provider: p.Name, Field: f, Alternatives: "or " + strings.Join(alts, ", or ")}
}

// sequenceField is the pause between the authorizations of an order for
// providers that hold one record per name (lego solves them one at a
// time).
func sequenceField(env string) Field {
	return Field{Key: "sequence_interval", Env: env,
		Doc: `pause between two challenges of one order, a duration ("5s") or seconds (default 60s)`}
}

// setSequence parses sequence_interval into d when it is set.
func setSequence(p Provider, s Settings, d *time.Duration) error {
	v := s["sequence_interval"]
	if v == "" {
		return nil
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		*d = time.Duration(n) * time.Second
		return nil
	}
	parsed, err := time.ParseDuration(v)
	if err != nil || parsed < 0 {
		return &InvalidFieldError{Provider: p.Name, Field: "sequence_interval", Value: v, Reason: `use a duration such as "5s" or a number of seconds`}
	}
	*d = parsed
	return nil
}

// checkMode accepts lego's "RAW" mode or none.
func checkMode(p Provider, s Settings) error {
	if m := s["mode"]; m != "" && m != "RAW" {
		return &InvalidFieldError{Provider: p.Name, Field: "mode", Value: m, Reason: `use "RAW" or leave it empty`}
	}
	return nil
}

func cloudflareProvider() Provider {
	p := Provider{Name: "cloudflare", Fields: []Field{
		{Key: "api_token", Env: "CLOUDFLARE_DNS_API_TOKEN", Secret: true, Doc: "API token with Zone:DNS:Edit permission"},
		{Key: "zone_token", Env: "CLOUDFLARE_ZONE_API_TOKEN", Secret: true, Doc: "API token with Zone:Zone:Read permission (default: api_token)"},
		{Key: "email", Env: "CLOUDFLARE_EMAIL", Doc: "account e-mail, with api_key (legacy global key)"},
		{Key: "api_key", Env: "CLOUDFLARE_API_KEY", Secret: true, Doc: "global API key, with email (legacy)"},
	}}
	p.validate = func(s Settings) error { return oneOf(p, s, []string{"api_token"}, []string{"email", "api_key"}) }
	p.open = func(s Settings) (acme.LegoProvider, error) {
		c := cloudflare.NewDefaultConfig()
		c.AuthToken, c.ZoneToken, c.AuthEmail, c.AuthKey = s["api_token"], s["zone_token"], s["email"], s["api_key"]
		return wrap(cloudflare.NewDNSProviderConfig(c))
	}
	return p
}

func route53Provider() Provider {
	p := Provider{Name: "route53", Fields: []Field{
		{Key: "access_key_id", Env: "AWS_ACCESS_KEY_ID", Doc: "access key (default: the AWS SDK's credential chain)"},
		{Key: "secret_access_key", Env: "AWS_SECRET_ACCESS_KEY", Secret: true, Doc: "secret key, with access_key_id"},
		{Key: "session_token", Env: "AWS_SESSION_TOKEN", Secret: true, Doc: "session token of temporary credentials"},
		{Key: "region", Env: "AWS_REGION", Doc: "AWS region"},
		{Key: "hosted_zone_id", Env: "AWS_HOSTED_ZONE_ID", Doc: "hosted zone (default: found from the name)"},
		{Key: "assume_role_arn", Env: "AWS_ASSUME_ROLE_ARN", Doc: "role to assume"},
		{Key: "external_id", Env: "AWS_EXTERNAL_ID", Doc: "external ID for assume_role_arn"},
	}}
	p.validate = func(s Settings) error {
		if (s["access_key_id"] == "") != (s["secret_access_key"] == "") {
			return oneOf(p, s, []string{"access_key_id", "secret_access_key"})
		}
		return nil
	}
	p.open = func(s Settings) (acme.LegoProvider, error) {
		c := route53.NewDefaultConfig()
		c.AccessKeyID, c.SecretAccessKey, c.SessionToken = s["access_key_id"], s["secret_access_key"], s["session_token"]
		if s["region"] != "" {
			c.Region = s["region"]
		}
		if s["hosted_zone_id"] != "" {
			c.HostedZoneID = s["hosted_zone_id"]
		}
		if s["assume_role_arn"] != "" {
			c.AssumeRoleArn, c.ExternalID = s["assume_role_arn"], s["external_id"]
		}
		return wrap(route53.NewDNSProviderConfig(c))
	}
	return p
}

func digitaloceanProvider() Provider {
	p := Provider{Name: "digitalocean", Fields: []Field{
		{Key: "auth_token", Env: "DO_AUTH_TOKEN", Secret: true, Required: true, Doc: "API token"},
		{Key: "api_url", Env: "DO_API_URL", Doc: "API URL (default: DigitalOcean's)"},
	}}
	p.open = func(s Settings) (acme.LegoProvider, error) {
		c := digitalocean.NewDefaultConfig()
		c.AuthToken = s["auth_token"]
		if s["api_url"] != "" {
			c.BaseURL = s["api_url"]
		}
		return wrap(digitalocean.NewDNSProviderConfig(c))
	}
	return p
}

func azurednsProvider() Provider {
	p := Provider{Name: "azuredns", Fields: []Field{
		{Key: "subscription_id", Env: "AZURE_SUBSCRIPTION_ID", Required: true, Doc: "subscription"},
		{Key: "resource_group", Env: "AZURE_RESOURCE_GROUP", Required: true, Doc: "resource group of the zone"},
		{Key: "tenant_id", Env: "AZURE_TENANT_ID", Doc: "tenant (service principal)"},
		{Key: "client_id", Env: "AZURE_CLIENT_ID", Doc: "client ID (service principal)"},
		{Key: "client_secret", Env: "AZURE_CLIENT_SECRET", Secret: true, Doc: "client secret (service principal)"},
		{Key: "zone_name", Env: "AZURE_ZONE_NAME", Doc: "zone (default: found from the name)"},
		{Key: "auth_method", Env: "AZURE_AUTH_METHOD", Doc: `"env", "wli", "msi", "cli" or "oidc" (default: the SDK's chain)`},
	}}
	p.open = func(s Settings) (acme.LegoProvider, error) {
		c := azuredns.NewDefaultConfig()
		c.SubscriptionID, c.ResourceGroup = s["subscription_id"], s["resource_group"]
		c.TenantID, c.ClientID, c.ClientSecret = s["tenant_id"], s["client_id"], s["client_secret"]
		c.ZoneName, c.AuthMethod = s["zone_name"], s["auth_method"]
		return wrap(azuredns.NewDNSProviderConfig(c))
	}
	return p
}

func gcloudProvider() Provider {
	p := Provider{Name: "gcloud", Fields: []Field{
		{Key: "service_account", Env: "GCE_SERVICE_ACCOUNT", Secret: true, Doc: "service account key (JSON); or service_account_file"},
		{Key: "project", Env: "GCE_PROJECT", Doc: "project, with Application Default Credentials when no service_account is given"},
	}}
	p.validate = func(s Settings) error { return oneOf(p, s, []string{"service_account"}, []string{"project"}) }
	p.open = func(s Settings) (acme.LegoProvider, error) {
		if s["service_account"] != "" {
			return wrap(gcloud.NewDNSProviderServiceAccountKey([]byte(s["service_account"])))
		}
		return wrap(gcloud.NewDNSProviderCredentials(s["project"]))
	}
	return p
}

func hetznerProvider() Provider {
	p := Provider{Name: "hetzner", Fields: []Field{
		{Key: "api_token", Env: "HETZNER_API_TOKEN", Secret: true, Doc: "Hetzner Cloud API token"},
		{Key: "api_key", Env: "HETZNER_API_KEY", Secret: true, Doc: "legacy DNS Console API key"},
	}}
	p.validate = func(s Settings) error { return oneOf(p, s, []string{"api_token"}, []string{"api_key"}) }
	p.open = func(s Settings) (acme.LegoProvider, error) {
		c := hetzner.NewDefaultConfig()
		c.APIToken, c.APIKey = s["api_token"], s["api_key"]
		return wrap(hetzner.NewDNSProviderConfig(c))
	}
	return p
}

func ovhProvider() Provider {
	p := Provider{Name: "ovh", Fields: []Field{
		{Key: "endpoint", Env: "OVH_ENDPOINT", Required: true, Doc: `"ovh-eu", "ovh-ca", ... or a URL`},
		{Key: "application_key", Env: "OVH_APPLICATION_KEY", Doc: "application key"},
		{Key: "application_secret", Env: "OVH_APPLICATION_SECRET", Secret: true, Doc: "application secret"},
		{Key: "consumer_key", Env: "OVH_CONSUMER_KEY", Secret: true, Doc: "consumer key"},
		{Key: "client_id", Env: "OVH_CLIENT_ID", Doc: "OAuth2 client ID"},
		{Key: "client_secret", Env: "OVH_CLIENT_SECRET", Secret: true, Doc: "OAuth2 client secret"},
		{Key: "access_token", Env: "OVH_ACCESS_TOKEN", Secret: true, Doc: "access token"},
	}}
	p.validate = func(s Settings) error {
		return oneOf(p, s, []string{"application_key", "application_secret", "consumer_key"},
			[]string{"client_id", "client_secret"}, []string{"access_token"})
	}
	p.open = func(s Settings) (acme.LegoProvider, error) {
		c := ovh.NewDefaultConfig()
		c.APIEndpoint = s["endpoint"]
		c.ApplicationKey, c.ApplicationSecret, c.ConsumerKey = s["application_key"], s["application_secret"], s["consumer_key"]
		if s["client_id"] != "" {
			c.OAuth2Config = &ovh.OAuth2Config{ClientID: s["client_id"], ClientSecret: s["client_secret"]}
		}
		c.AccessToken = s["access_token"]
		return wrap(ovh.NewDNSProviderConfig(c))
	}
	return p
}

func gandiv5Provider() Provider {
	p := Provider{Name: "gandiv5", Fields: []Field{
		{Key: "personal_access_token", Env: "GANDIV5_PERSONAL_ACCESS_TOKEN", Secret: true, Doc: "personal access token"},
		{Key: "api_key", Env: "GANDIV5_API_KEY", Secret: true, Doc: "API key (deprecated by Gandi)"},
	}}
	p.validate = func(s Settings) error { return oneOf(p, s, []string{"personal_access_token"}, []string{"api_key"}) }
	p.open = func(s Settings) (acme.LegoProvider, error) {
		c := gandiv5.NewDefaultConfig()
		c.PersonalAccessToken, c.APIKey = s["personal_access_token"], s["api_key"]
		return wrap(gandiv5.NewDNSProviderConfig(c))
	}
	return p
}

func namecheapProvider() Provider {
	p := Provider{Name: "namecheap", Fields: []Field{
		{Key: "api_user", Env: "NAMECHEAP_API_USER", Required: true, Doc: "API user"},
		{Key: "api_key", Env: "NAMECHEAP_API_KEY", Secret: true, Required: true, Doc: "API key"},
		{Key: "client_ip", Env: "NAMECHEAP_CLIENT_IP", Doc: "this host's public IP, allow-listed at Namecheap (default: looked up over the network at start)"},
	}}
	p.open = func(s Settings) (acme.LegoProvider, error) {
		c := namecheap.NewDefaultConfig()
		c.APIUser, c.APIKey, c.ClientIP = s["api_user"], s["api_key"], s["client_ip"]
		return wrap(namecheap.NewDNSProviderConfig(c))
	}
	return p
}

func rfc2136Provider() Provider {
	p := Provider{Name: "rfc2136", Fields: []Field{
		{Key: "nameserver", Env: "DNSUPDATE_NAMESERVER", Required: true, Doc: `primary server, "host" or "host:port"`},
		{Key: "tsig_key", Env: "DNSUPDATE_TSIG_KEY", Doc: "TSIG key name (empty: unsigned updates)"},
		{Key: "tsig_secret", Env: "DNSUPDATE_TSIG_SECRET", Secret: true, Doc: "TSIG secret, base64"},
		{Key: "tsig_algorithm", Env: "DNSUPDATE_TSIG_ALGORITHM", Doc: `TSIG algorithm (default "hmac-sha1.")`},
		{Key: "zones", Env: "DNSUPDATE_ZONES", Doc: "comma-separated zones to update (default: found by SOA lookup)"},
		sequenceField("DNSUPDATE_SEQUENCE_INTERVAL"),
	}}
	p.validate = func(s Settings) error {
		if (s["tsig_key"] == "") != (s["tsig_secret"] == "") {
			return oneOf(p, s, []string{"tsig_key", "tsig_secret"})
		}
		var d time.Duration
		return setSequence(p, s, &d)
	}
	p.open = func(s Settings) (acme.LegoProvider, error) {
		c := rfc2136.NewDefaultConfig()
		c.Nameserver, c.TSIGKey, c.TSIGSecret = s["nameserver"], s["tsig_key"], s["tsig_secret"]
		if s["tsig_algorithm"] != "" {
			c.TSIGAlgorithm = s["tsig_algorithm"]
		}
		if s["zones"] != "" {
			c.Zones = strings.Split(s["zones"], ",")
		}
		if err := setSequence(p, s, &c.SequenceInterval); err != nil {
			return nil, err
		}
		return wrap(rfc2136.NewDNSProviderConfig(c))
	}
	return p
}

func execProvider() Provider {
	p := Provider{Name: "exec", Fields: []Field{
		{Key: "program", Env: "EXEC_PATH", Required: true, Doc: `program run as "PROGRAM present|cleanup FQDN VALUE"`},
		{Key: "mode", Env: "EXEC_MODE", Doc: `"RAW" passes domain, token and key authorization instead`},
		sequenceField("EXEC_SEQUENCE_INTERVAL"),
	}}
	p.validate = func(s Settings) error {
		if err := checkMode(p, s); err != nil {
			return err
		}
		var d time.Duration
		return setSequence(p, s, &d)
	}
	p.open = func(s Settings) (acme.LegoProvider, error) {
		c := exec.NewDefaultConfig()
		c.Program, c.Mode = s["program"], s["mode"]
		if err := setSequence(p, s, &c.SequenceInterval); err != nil {
			return nil, err
		}
		return wrap(exec.NewDNSProviderConfig(c))
	}
	return p
}

func httpreqProvider() Provider {
	p := Provider{Name: "httpreq", Fields: []Field{
		{Key: "endpoint", Env: "HTTPREQ_ENDPOINT", Required: true, Doc: "base URL; /present and /cleanup are POSTed to it"},
		{Key: "mode", Env: "HTTPREQ_MODE", Doc: `"RAW" sends domain, token and key authorization instead of fqdn and value`},
		{Key: "username", Env: "HTTPREQ_USERNAME", Doc: "basic auth user"},
		{Key: "password", Env: "HTTPREQ_PASSWORD", Secret: true, Doc: "basic auth password"},
	}}
	p.validate = func(s Settings) error {
		u, err := url.Parse(s["endpoint"])
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &InvalidFieldError{Provider: p.Name, Field: "endpoint", Value: s["endpoint"], Reason: "use an http:// or https:// URL"}
		}
		return checkMode(p, s)
	}
	p.open = func(s Settings) (acme.LegoProvider, error) {
		u, _ := url.Parse(s["endpoint"]) // checked by validate
		c := httpreq.NewDefaultConfig()
		c.Endpoint, c.Mode, c.Username, c.Password = u, s["mode"], s["username"], s["password"]
		return wrap(httpreq.NewDNSProviderConfig(c))
	}
	return p
}
