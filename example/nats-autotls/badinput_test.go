package main

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// Bad input exits non-zero before anything listens or any request reaches
// the CA, with one message naming the source and the setting.
func TestBadInputs(t *testing.T) {
	var caHits atomic.Int32
	ca := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		caHits.Add(1)
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	t.Cleanup(ca.Close)
	dir := t.TempDir()
	roots := filepath.Join(dir, "roots.pem")
	require.NoError(t, os.WriteFile(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate().Raw}), 0o600))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	badJSON := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(badJSON, []byte(`{"domains": ["a.example.test"], "letsencrypt_emial": "x"}`), 0o600))
	dirURL := ca.URL + "/dir"
	acmeBlock := fmt.Sprintf("acme { directory: %q, agree_tos: true, roots: %q }", dirURL, roots)
	const secret = "s3cret-Value-never-shown"

	for _, tc := range []struct {
		name string
		conf string // the autotls block and more; port and host are added
		env  []string
		args []string
		want []string // the source and the field, at least
	}{
		{name: "unknown field", conf: "autotls { stroage: /x }", want: []string{"nats.conf:3", "autotls.stroage", "storage"}},
		{name: "wrong type", conf: "autotls { names: 5 }", want: []string{"nats.conf:3", "autotls.names", "a list"}},
		{name: "block not a block", conf: "autotls: 5", want: []string{"nats.conf:3", "not a block"}},
		{name: "misspelt nats field", conf: "prot: 4222", want: []string{"nats.conf:3", `"prot"`}},
		{name: "bad domain", conf: "autotls { names: [bad_name!] }", want: []string{"nats.conf:3", "autotls.names", "bad_name!"}},
		{name: "wildcard http-01", conf: `autotls { names: ["*.example.test"], ` + acmeBlock + " }", want: []string{"nats.conf:3", "autotls.names", "dns-01"}},
		{name: "email the CA needs", env: []string{"NATS_AUTOTLS_NAMES=a.example.test", "NATS_AUTOTLS_ACME_DIRECTORY=https://acme.zerossl.com/v2/DV90", "NATS_AUTOTLS_ACME_AGREE_TOS=true"}, want: []string{"env NATS_AUTOTLS_ACME_DIRECTORY", "autotls.acme.email"}},
		{name: "bad email", args: []string{"-autotls_names", "a.example.test", "-autotls_acme", dirURL, "-autotls_agree_tos", "-autotls_email", "bob"}, want: []string{"flag -autotls_email", "autotls.acme.email", "bob"}},
		{name: "terms not agreed", args: []string{"-autotls_names", "a.example.test", "-autotls_acme", dirURL}, want: []string{"flag -autotls_acme", "autotls.acme.agree_tos"}},
		{name: "unreadable secret", env: []string{"NATS_AUTOTLS_ACME_EAB_HMAC_KEY_FILE=/nonexistent/eab"}, want: []string{"env NATS_AUTOTLS_ACME_EAB_HMAC_KEY_FILE", "autotls.acme.eab.hmac_key_file", "/nonexistent/eab"}},
		{name: "empty secret", conf: fmt.Sprintf("autotls { acme { eab { kid: k, hmac_key_file: %q } } }", empty), want: []string{"nats.conf:3", "autotls.acme.eab.hmac_key_file", "empty"}},
		{name: "unknown provider", conf: "autotls { dns { provider: cloudflair } }", want: []string{"nats.conf:3", "autotls.dns.provider", "cloudflair", "cloudflare"}},
		{name: "missing credential", env: []string{"NATS_AUTOTLS_DNS_PROVIDER=digitalocean"}, want: []string{"env NATS_AUTOTLS_DNS_PROVIDER", "autotls.dns.provider", "auth_token", "DO_AUTH_TOKEN"}},
		{name: "unknown provider setting", args: []string{"-autotls_dns_provider", "digitalocean", "-autotls_dns_setting", "tokn=x"}, want: []string{"flag -autotls_dns_setting", "autotls.dns.settings.tokn"}},
		{name: "secret on the command line", args: []string{"-autotls_dns_provider", "digitalocean", "-autotls_dns_setting", "auth_token=" + secret}, want: []string{"flag -autotls_dns_setting", "autotls.dns.settings.auth_token", "auth_token_file"}},
		{name: "hook and provider", env: []string{"NATS_AUTOTLS_DNS_HOOK=/bin/true", "NATS_AUTOTLS_DNS_PROVIDER=exec", "NATS_AUTOTLS_DNS_SETTINGS_PROGRAM=/bin/true"}, want: []string{"env NATS_AUTOTLS_DNS_HOOK", "autotls.dns.hook"}},
		{name: "bad duration", env: []string{"NATS_AUTOTLS_DNS_PROPAGATION_TIMEOUT=fast"}, want: []string{"env NATS_AUTOTLS_DNS_PROPAGATION_TIMEOUT", "autotls.dns.propagation_timeout", "fast"}},
		{name: "bad boolean", env: []string{"NATS_AUTOTLS_BACKGROUND=maybe"}, want: []string{"env NATS_AUTOTLS_BACKGROUND", "autotls.background", "maybe"}},
		{name: "unknown variable", env: []string{"NATS_AUTOTLS_EMIAL=a@example.com"}, want: []string{"env NATS_AUTOTLS_EMIAL", "NATS_AUTOTLS_ACME_EMAIL"}},
		{name: "http directory", conf: `autotls { acme { directory: "http://127.0.0.1:1/dir", agree_tos: true } }`, want: []string{"nats.conf:3", "autotls.acme.directory", "https"}},
		{name: "bad status address", args: []string{"-autotls_status", "localhost"}, want: []string{"flag -autotls_status", "autotls.status"}},
		{name: "ca cert without key", conf: "autotls { ca { cert: /x.pem } }", want: []string{"nats.conf:3", "autotls.ca.cert", "ca.key"}},
		{name: "unknown role", conf: "autotls { roles { webscket { names: [a.example.test] } } }", want: []string{"nats.conf:3", "autotls.roles.webscket", "websocket"}},
		{name: "acme without names", env: []string{"NATS_AUTOTLS_ACME_DIRECTORY=" + dirURL, "NATS_AUTOTLS_ACME_AGREE_TOS=true"}, want: []string{"env NATS_AUTOTLS_ACME_DIRECTORY", "autotls.names", "NATS_AUTOTLS_NAMES"}},
		{name: "eab without key", env: []string{"NATS_AUTOTLS_NAMES=a.example.test", "NATS_AUTOTLS_ACME_DIRECTORY=" + dirURL, "NATS_AUTOTLS_ACME_AGREE_TOS=true", "NATS_AUTOTLS_ACME_EAB_KID=k"}, want: []string{"env NATS_AUTOTLS_ACME_EAB_KID", "autotls.acme.eab.hmac_key"}},
		{name: "bad resolver", conf: `autotls { dns { resolvers: ["1.2.3.4:99999"] } }`, want: []string{"nats.conf:3", "autotls.dns.resolvers"}},
		{name: "bad provider value", conf: `autotls { dns { provider: exec, settings { program: /bin/true, mode: raw } } }`, want: []string{"nats.conf:3", "autotls.dns.settings.mode", "RAW"}},
		{name: "setting without =", args: []string{"-autotls_dns_setting", "novalue"}, want: []string{"flag -autotls_dns_setting", "KEY=VALUE"}},
		{name: "-t checks the block", conf: "autotls { stroage: /x }", args: []string{"-t"}, want: []string{"nats.conf:3", "autotls.stroage"}},
		{name: "natsmagic unknown provider", env: []string{"NATS_MAGIC_DOMAINS=a.example.test", "NATS_MAGIC_PROVIDER=gandi-typo"}, want: []string{"env NATS_MAGIC_PROVIDER", "gandi-typo"}},
		{name: "natsmagic unknown field", env: []string{"NATS_MAGIC_FILE=" + badJSON}, want: []string{"NATS_MAGIC_FILE", "letsencrypt_emial"}},
		{name: "natsmagic URL not answering", env: []string{"NATS_MAGIC_URL=https://127.0.0.1:1/cfg"}, want: []string{"env NATS_MAGIC_URL", "no answer"}},
		{name: "natsmagic plain http", env: []string{"NATS_MAGIC_URL=http://" + strings.TrimPrefix(ca.URL, "https://"), "NATS_MAGIC_SERVER=SUAMAGICBADSEED"}, want: []string{"env NATS_MAGIC_URL", "NATS_MAGIC_INSECURE"}},
		{name: "natsmagic bad seed", env: []string{"NATS_MAGIC_URL=" + ca.URL, "NATS_MAGIC_SERVER=" + secret}, want: []string{"env NATS_MAGIC_SERVER", "seed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			conf := filepath.Join(t.TempDir(), "nats.conf")
			require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, "host: 127.0.0.1\nport: %d\n%s\n", port, tc.conf), 0o600))
			env := append([]string{"SSL_CERT_FILE=" + roots}, tc.env...)
			code, out := runToExit(t, env, append([]string{"-c", conf, "-autotls_storage", t.TempDir()}, tc.args...)...)
			require.NotZero(t, code, out)
			for _, w := range tc.want {
				require.Contains(t, out, w)
			}
			require.NotContains(t, out, "ready", "nothing started")
			require.NotContains(t, out, "Listening for", "nothing listened")
			require.NotContains(t, out, secret, "no secret in the message")
			require.Zero(t, caHits.Load(), "no request reached the CA")
		})
	}
}
