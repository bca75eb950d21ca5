package dnsprovider_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme/dnsprovider"
)

func TestCuratedSet(t *testing.T) {
	r := dnsprovider.New()
	for _, name := range []string{"cloudflare", "route53", "digitalocean", "azuredns", "gcloud", "hetzner",
		"ovh", "gandiv5", "namecheap", "rfc2136", "exec", "httpreq"} {
		p, ok := r.Lookup(name)
		require.True(t, ok, name)
		require.NotEmpty(t, p.Fields, name)
		for _, f := range p.Fields {
			require.NotEmpty(t, f.Env, "%s.%s has lego's variable", name, f.Key)
			require.NotEmpty(t, f.Doc, "%s.%s is documented", name, f.Key)
		}
	}
	require.Len(t, r.Names(), 12)
}

// Each curated provider opens from settings alone, without the process
// environment and without network access (azuredns lists the zones at
// Azure when it opens, so it is left out).
func TestOpenEachProvider(t *testing.T) {
	r := dnsprovider.New()
	for name, s := range map[string]dnsprovider.Settings{
		"cloudflare":   {"api_token": "tok"},
		"route53":      {"access_key_id": "AKIA", "secret_access_key": "sec", "region": "eu-west-1"},
		"digitalocean": {"auth_token": "tok"},
		"hetzner":      {"api_token": "tok"},
		"ovh":          {"endpoint": "ovh-eu", "application_key": "k", "application_secret": "s", "consumer_key": "c"},
		"gandiv5":      {"personal_access_token": "tok"},
		"namecheap":    {"api_user": "u", "api_key": "k", "client_ip": "192.0.2.1"},
		"rfc2136":      {"nameserver": "127.0.0.1:53", "tsig_key": "k.", "tsig_secret": "c2VjcmV0", "tsig_algorithm": "hmac-sha256."},
		"exec":         {"program": "/bin/true"},
		"httpreq":      {"endpoint": "https://dns.example.com/acme", "username": "u", "password": "p"},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := r.Open(name, s)
			require.NoError(t, err)
			require.NotNil(t, p)
		})
	}
}

func TestOpenErrors(t *testing.T) {
	r := dnsprovider.New()
	const secret = "s3cr3t-value"
	for _, tc := range []struct {
		name, provider string
		settings       dnsprovider.Settings
		target         any
		contains       []string
	}{
		{"unknown provider", "cloudflair", nil, new(*dnsprovider.UnknownProviderError), []string{`"cloudflair"`, "cloudflare", "autotls_alldns"}},
		{"unknown setting", "digitalocean", dnsprovider.Settings{"auth_token": secret, "token": secret}, new(*dnsprovider.UnknownFieldError), []string{`"token"`, "auth_token"}},
		{"missing required", "digitalocean", nil, new(*dnsprovider.MissingFieldError), []string{"auth_token", "DO_AUTH_TOKEN", "DO_AUTH_TOKEN_FILE"}},
		{"missing one of", "cloudflare", dnsprovider.Settings{"email": "a@b.c"}, new(*dnsprovider.MissingFieldError), []string{"api_token", "email and api_key", "CLOUDFLARE_DNS_API_TOKEN"}},
		{"half a key pair", "route53", dnsprovider.Settings{"secret_access_key": secret}, new(*dnsprovider.MissingFieldError), []string{"access_key_id"}},
		{"tsig half", "rfc2136", dnsprovider.Settings{"nameserver": "127.0.0.1", "tsig_secret": secret}, new(*dnsprovider.MissingFieldError), []string{"tsig_key"}},
		{"bad endpoint", "httpreq", dnsprovider.Settings{"endpoint": "ftp://x", "password": secret}, new(*dnsprovider.InvalidFieldError), []string{"endpoint", "ftp://x", "http"}},
		{"azure without group", "azuredns", dnsprovider.Settings{"subscription_id": "s", "client_secret": secret}, new(*dnsprovider.MissingFieldError), []string{"resource_group", "AZURE_RESOURCE_GROUP"}},
		{"bad mode", "exec", dnsprovider.Settings{"program": "/bin/true", "mode": "raw"}, new(*dnsprovider.InvalidFieldError), []string{"mode", "RAW"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Open(tc.provider, tc.settings)
			require.Error(t, err)
			require.True(t, errors.As(err, tc.target), "%T: %v", err, err)
			for _, s := range tc.contains {
				require.Contains(t, err.Error(), s)
			}
			require.NotContains(t, err.Error(), secret, "a credential never appears in an error")
		})
	}
}

func TestEnvironmentUntouched(t *testing.T) {
	t.Setenv("DO_AUTH_TOKEN", "")
	_, err := dnsprovider.New().Open("digitalocean", dnsprovider.Settings{"auth_token": "from-config"})
	require.NoError(t, err)
	v, _ := syscallGetenv("DO_AUTH_TOKEN")
	require.Empty(t, v, "credentials are never placed in the process environment")
}
