package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func flags(t *testing.T, args ...string) *flag.FlagSet {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse(args))
	return fs
}

// One setting given by every source with conflicting values: the flag
// wins over the environment, which wins over the file, which wins over
// the provider's own variable and the default.
func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, dir, "nats.conf", `
port: 4222
autotls {
  names: [file.example.com]
  storage: /from/file
  log_json: false
  acme { directory: "https://ca.example/dir", agree_tos: true, email: file@example.com }
  dns { provider: digitalocean, settings { auth_token: from-file } }
}
`)
	env := []string{
		"NATS_AUTOTLS_STORAGE=/from/env",
		"NATS_AUTOTLS_ACME_EMAIL=env@example.com",
		"NATS_AUTOTLS_LOG_JSON=false",
		"DO_AUTH_TOKEN=from-lego-env",
	}
	fs := flags(t, "-autotls_email", "flag@example.com", "-autotls_log_json")
	cfg, err := Load(Input{ConfigFile: conf, Environ: env, Flags: fs})
	require.NoError(t, err)

	require.Equal(t, []string{"file.example.com"}, cfg.Names)
	require.Equal(t, "/from/env", cfg.Storage, "env over file")
	require.Equal(t, "flag@example.com", cfg.ACME.Email, "flag over env over file")
	require.True(t, cfg.LogJSON, "flag over env over file")
	require.Equal(t, "from-file", cfg.DNS.Settings["auth_token"], "file over the provider's own variable")
	require.Equal(t, "flag -autotls_email", cfg.Sources["acme.email"])
	require.Equal(t, "env NATS_AUTOTLS_STORAGE", cfg.Sources["storage"])
	require.Contains(t, cfg.Sources["names"], "nats.conf:4")

	// Without the file's token, lego's variable is used.
	conf2 := writeFile(t, dir, "nats2.conf", "autotls { dns { provider: digitalocean } }\n")
	cfg, err = Load(Input{ConfigFile: conf2, Environ: []string{"DO_AUTH_TOKEN=from-lego-env"}})
	require.NoError(t, err)
	require.Equal(t, "from-lego-env", cfg.DNS.Settings["auth_token"])
	require.Equal(t, "env DO_AUTH_TOKEN", cfg.Sources["dns.settings.auth_token"])
}

// Includes, variables and $ENV references work as in the rest of
// nats.conf, and errors point into the included file.
func TestFileFeatures(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "autotls.conf", "NAME: var.example.com\nautotls {\n  names: [$NAME, inc.example.com]\n  storage: $STORE\n}\n")
	conf := writeFile(t, dir, "nats.conf", "port: 4222\ninclude ./autotls.conf\n")
	t.Setenv("STORE", "/env/store")
	cfg, err := Load(Input{ConfigFile: conf})
	require.NoError(t, err)
	require.Equal(t, []string{"var.example.com", "inc.example.com"}, cfg.Names)
	require.Equal(t, "/env/store", cfg.Storage)

	writeFile(t, dir, "autotls.conf", "autotls {\n  names: [ok.example.com]\n  stroage: /x\n}\n")
	_, err = Load(Input{ConfigFile: conf})
	var ce *Error
	require.True(t, errors.As(err, &ce), "%v", err)
	require.Contains(t, ce.Source, "autotls.conf:3")
	require.Equal(t, "stroage", ce.Field)
	require.Contains(t, err.Error(), "storage")
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	hmac := writeFile(t, dir, "hmac", "c2VjcmV0LWhtYWMta2V5\n")
	tok := writeFile(t, dir, "tok", "token-value\r\n")
	conf := writeFile(t, dir, "nats.conf", `autotls {
  names: [a.example.com]
  acme { directory: "https://ca.example/dir", agree_tos: true, eab { kid: k1, hmac_key_file: "`+hmac+`" } }
  dns { provider: cloudflare, settings { api_token_file: "`+tok+`" } }
}
`)
	cfg, err := Load(Input{ConfigFile: conf})
	require.NoError(t, err)
	require.Equal(t, "c2VjcmV0LWhtYWMta2V5", cfg.ACME.EABHMACKey, "one trailing newline trimmed")
	require.Equal(t, "token-value", cfg.DNS.Settings["api_token"])

	other := writeFile(t, dir, "other", "from-env-file\n")
	cfg, err = Load(Input{ConfigFile: conf, Environ: []string{"NATS_AUTOTLS_DNS_SETTINGS_API_TOKEN_FILE=" + other}})
	require.NoError(t, err)
	require.Equal(t, "from-env-file", cfg.DNS.Settings["api_token"])

	fs := flags(t, "-autotls_dns_setting", "api_token_file="+tok, "-autotls_eab_hmac_key_file", hmac)
	cfg, err = Load(Input{ConfigFile: conf, Flags: fs})
	require.NoError(t, err)
	require.Equal(t, "token-value", cfg.DNS.Settings["api_token"])
}

func TestNamesDerivedFromListeners(t *testing.T) {
	opts := &server.Options{ClientAdvertise: "nats.example.com:4222", ServerName: "n1.example.com"}
	opts.Websocket.Advertise = "ws.example.com:443"
	opts.Cluster.Advertise = "10.0.0.1:6222"
	cfg, err := Load(Input{Options: opts})
	require.NoError(t, err)
	require.Equal(t, []string{"nats.example.com", "ws.example.com", "n1.example.com"}, cfg.Names)
	require.Equal(t, "derived from client_advertise", cfg.Sources["names"])

	cfg, err = Load(Input{Options: opts, Environ: []string{"NATS_AUTOTLS_NAMES=a.example.com,b.example.com"}})
	require.NoError(t, err)
	require.Equal(t, []string{"a.example.com", "b.example.com"}, cfg.Names, "given names win")
}

func TestRoleOverrides(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, dir, "nats.conf", "autotls {\n  key_type: p384\n  roles { websocket { names: [ws.example.com], key_type: rsa2048 } }\n}\n")
	cfg, err := Load(Input{ConfigFile: conf, Environ: []string{"NATS_AUTOTLS_KEY_TYPE=ed25519"}})
	require.NoError(t, err)
	require.Equal(t, "ed25519", cfg.KeyType, "env over file")
	require.Equal(t, Role{Names: []string{"ws.example.com"}, KeyType: "rsa2048"}, cfg.Roles["websocket"])
}

// A wildcard for a role the private CA always signs (routes, gateways,
// leafnode remotes) needs no dns-01, also when an ACME CA serves the
// public roles over http-01: a cluster shares "*.example.net".
func TestPrivateRoleWildcardWithHTTP01(t *testing.T) {
	dir := t.TempDir()
	for _, role := range []string{"cluster", "gateway", "leafnode_remote"} {
		file := writeFile(t, dir, "nats.conf", "autotls { names: [nats-1.example.net], acme { directory: letsencrypt, agree_tos: true, email: ops@example.net }, roles { "+role+" { names: [\"*.example.net\"] } } }\n")
		cfg, err := Load(Input{ConfigFile: file})
		require.NoError(t, err, role)
		require.Equal(t, []string{"*.example.net"}, cfg.Roles[role].Names)
	}
}

func TestDurations(t *testing.T) {
	cfg, err := Load(Input{Environ: []string{"NATS_AUTOTLS_DNS_PROPAGATION_TIMEOUT=90", "NATS_AUTOTLS_DNS_POLLING_INTERVAL=250ms"}})
	require.NoError(t, err)
	require.Equal(t, 90*time.Second, cfg.DNS.PropagationTimeout)
	require.Equal(t, 250*time.Millisecond, cfg.DNS.PollingInterval)
}

// Errors name the source, the field and the fix, never a secret.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	const secret = "super-secret-token"
	for name, tc := range map[string]struct {
		file  string
		env   []string
		flags []string
		want  []string
	}{
		"unknown nats field":    {file: "prot: 4222\n", want: []string{"nats.conf:1", `unknown field "prot"`}},
		"wrong type":            {file: "autotls { names: 5 }\n", want: []string{"nats.conf:1", "autotls.names", "a list"}},
		"block not a block":     {file: "autotls: yes\n", want: []string{"nats.conf:1", "not a block"}},
		"bad domain":            {file: "autotls { names: [bad_name!] }\n", want: []string{"nats.conf:1", "autotls.names", "bad_name!"}},
		"wildcard http01":       {file: "autotls { names: [\"*.example.com\"], acme { directory: letsencrypt, agree_tos: true } }\n", want: []string{"nats.conf:1", "autotls.names", "dns-01"}},
		"zerossl no email":      {env: []string{"NATS_AUTOTLS_ACME_DIRECTORY=https://acme.zerossl.com/v2/DV90", "NATS_AUTOTLS_ACME_AGREE_TOS=true", "NATS_AUTOTLS_NAMES=a.example.com"}, want: []string{"env NATS_AUTOTLS_ACME_DIRECTORY", "acme.email", "-autotls_email"}},
		"no tos":                {flags: []string{"-autotls_acme", "letsencrypt", "-autotls_names", "a.example.com"}, want: []string{"flag -autotls_acme", "acme.agree_tos", "terms", "-autotls_agree_tos"}},
		"unknown env":           {env: []string{"NATS_AUTOTLS_EMIAL=a@b.c"}, want: []string{"env NATS_AUTOTLS_EMIAL", "unknown variable", "NATS_AUTOTLS_ACME_EMAIL"}},
		"bad bool env":          {env: []string{"NATS_AUTOTLS_BACKGROUND=maybe"}, want: []string{"env NATS_AUTOTLS_BACKGROUND", "maybe", "true or false"}},
		"unreadable secret":     {env: []string{"NATS_AUTOTLS_ACME_EAB_HMAC_KEY_FILE=/nonexistent/x"}, want: []string{"NATS_AUTOTLS_ACME_EAB_HMAC_KEY_FILE", "/nonexistent/x"}},
		"unknown provider":      {file: "autotls { dns { provider: cloudflair } }\n", want: []string{"nats.conf:1", "dns.provider", "cloudflair", "cloudflare"}},
		"missing credential":    {file: "autotls { dns { provider: digitalocean } }\n", want: []string{"nats.conf:1", "dns.provider", "auth_token", "DO_AUTH_TOKEN"}},
		"unknown dns setting":   {file: "autotls { dns { provider: digitalocean, settings { auth_token: \"" + secret + "\", tokn: x } } }\n", want: []string{"nats.conf:1", "dns.settings.tokn"}},
		"secret on cmdline":     {flags: []string{"-autotls_dns_provider", "digitalocean", "-autotls_dns_setting", "auth_token=" + secret}, want: []string{"flag -autotls_dns_setting", "auth_token_file"}},
		"hook and provider":     {env: []string{"NATS_AUTOTLS_DNS_HOOK=/bin/true", "NATS_AUTOTLS_DNS_PROVIDER=exec", "NATS_AUTOTLS_DNS_SETTINGS_PROGRAM=/bin/true"}, want: []string{"env NATS_AUTOTLS_DNS_HOOK", "use one of them"}},
		"bad duration":          {file: "autotls { dns { propagation_timeout: fast } }\n", want: []string{"nats.conf:1", "dns.propagation_timeout", "duration"}},
		"bad bool file":         {file: "autotls { log_json: maybe }\n", want: []string{"nats.conf:1", "autotls.log_json", "true or false"}},
		"http directory":        {file: "autotls { names: [a.example.com], acme { directory: \"http://ca.example/dir\", agree_tos: true } }\n", want: []string{"nats.conf:1", "acme.directory", "https"}},
		"bad status":            {env: []string{"NATS_AUTOTLS_STATUS=localhost"}, want: []string{"env NATS_AUTOTLS_STATUS", "HOST:PORT"}},
		"ca key only":           {file: "autotls { ca { key: /x.key } }\n", want: []string{"nats.conf:1", "ca.key", "ca.cert"}},
		"unknown role":          {file: "autotls { roles { webscket { names: [a.example.com] } } }\n", want: []string{"nats.conf:1", "roles.webscket", "websocket"}},
		"eab half":              {file: "autotls { names: [a.example.com], acme { directory: letsencrypt, agree_tos: true, eab { kid: k } } }\n", want: []string{"acme.eab.hmac_key"}},
		"bad dns setting flag":  {flags: []string{"-autotls_dns_setting", "novalue"}, want: []string{"flag -autotls_dns_setting", "KEY=VALUE"}},
		"settings w/o provider": {env: []string{"NATS_AUTOTLS_DNS_SETTINGS_API_TOKEN=" + secret}, want: []string{"env NATS_AUTOTLS_DNS_SETTINGS_API_TOKEN", "dns.provider"}},
		"bad email":             {file: "autotls { names: [a.example.com], acme { directory: letsencrypt, agree_tos: true, email: bob } }\n", want: []string{"nats.conf:1", "acme.email", "bob"}},
		"acme without names":    {env: []string{"NATS_AUTOTLS_ACME_DIRECTORY=letsencrypt", "NATS_AUTOTLS_ACME_AGREE_TOS=true"}, want: []string{"env NATS_AUTOTLS_ACME_DIRECTORY", "autotls.names", "NATS_AUTOTLS_NAMES"}},
		"bad key type":          {file: "autotls { roles { cluster { key_type: rsa1024 } } }\n", want: []string{"nats.conf:1", "roles.cluster.key_type", "rsa1024", "p256"}},
		"wildcard role http01":  {file: "autotls { names: [a.example.com], acme { directory: letsencrypt, agree_tos: true }, roles { websocket { names: [\"*.example.com\"] } } }\n", want: []string{"nats.conf:1", "roles.websocket.names", "dns-01"}},
		"bad resolver":          {env: []string{"NATS_AUTOTLS_DNS_RESOLVERS=1.2.3.4:99999"}, want: []string{"NATS_AUTOTLS_DNS_RESOLVERS", "port"}},
	} {
		t.Run(name, func(t *testing.T) {
			in := Input{Environ: tc.env}
			if tc.file != "" {
				in.ConfigFile = writeFile(t, dir, "nats.conf", tc.file)
			}
			if tc.flags != nil {
				in.Flags = flags(t, tc.flags...)
			}
			_, err := Load(in)
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), secret)
			require.Equal(t, 1, strings.Count(err.Error(), "\n")+1, "one message")
		})
	}
}
