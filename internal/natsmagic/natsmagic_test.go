package natsmagic

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme/dnsprovider"
	"github.com/nats-autotls/autotls/internal/config"
)

// readmeDoc is natsmagic README's advanced example, adapted: a test CA,
// loopback listeners and a leafnode remote on loopback.
func readmeDoc(ca string) string {
	return `{
    "domains": ["leaf-01.example.test"],
    "letsencrypt_email": "admin@example.com",
    "letsencrypt_ca": "` + ca + `",
    "letsencrypt_dns_provider": "digitalocean",
    "letsencrypt_dns_auth": {"do_token": "SECRET-TOKEN"},
    "remote_users": {
        "ADNU2QRXBD4ZKPJBX2W4GPYIZPJNU25IVC67TPARE22755KLN4JSJRQH": {"nkey": "SUSECRETSEED", "token": "eyJ0eXAiOiJKV1QifQ.e30.sig"}
    },
    "logging_preset": "development",
    "nats_config": {
        "server_name": "leaf-01",
        "port": 4224,
        "host": "127.0.0.1",
        "websocket": {"host": "127.0.0.1", "port": 10445},
        "mqtt": {"host": "127.0.0.1", "port": 8885},
        "jetstream": {"store_dir": "/tmp/js"},
        "leafnodes": {"remotes": [{"url": "nats-leaf://127.0.0.1:7222", "account": "ADNU2QRXBD4ZKPJBX2W4GPYIZPJNU25IVC67TPARE22755KLN4JSJRQH"}]}
    }
}`
}

func TestReadmeExample(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "leaf-01.natsmagic.json")
	require.NoError(t, os.WriteFile(path, []byte(readmeDoc("https://ca.example/dir")), 0o600))
	c, err := Load(context.Background(), Input{Environ: []string{"NATS_MAGIC_FILE=" + path}})
	require.NoError(t, err)

	opts, creds, err := c.NATSOptions(dir)
	require.NoError(t, err)
	defer creds.Remove()
	require.Equal(t, 4224, opts.Port)
	require.Equal(t, 10445, opts.Websocket.Port)
	require.Equal(t, 8885, opts.MQTT.Port)
	require.Len(t, opts.LeafNode.Remotes, 1)
	credsPath := opts.LeafNode.Remotes[0].Credentials
	require.Equal(t, creds.Files["ADNU2QRXBD4ZKPJBX2W4GPYIZPJNU25IVC67TPARE22755KLN4JSJRQH"], credsPath)
	info, err := os.Stat(credsPath)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	dinfo, err := os.Stat(creds.Dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), dinfo.Mode().Perm())
	b, _ := os.ReadFile(credsPath)
	require.Contains(t, string(b), "SUSECRETSEED")

	values, err := c.Values(dnsprovider.New(), nil, os.ReadFile)
	require.NoError(t, err)
	cfg, err := config.Load(config.Input{Base: values})
	require.NoError(t, err)
	require.Equal(t, []string{"leaf-01.example.test"}, cfg.Names)
	require.Equal(t, "https://ca.example/dir", cfg.ACME.Directory)
	require.Equal(t, "admin@example.com", cfg.ACME.Email)
	require.True(t, cfg.ACME.AgreeTOS)
	require.Equal(t, "digitalocean", cfg.DNS.Provider)
	require.Equal(t, "SECRET-TOKEN", cfg.DNS.Settings["auth_token"], "to the provider, not the environment")
	_, inEnv := os.LookupEnv("DO_TOKEN")
	require.False(t, inEnv)
	require.False(t, cfg.LogJSON, "the development preset logs text")

	require.NoError(t, creds.Remove())
	_, err = os.Stat(creds.Dir)
	require.True(t, os.IsNotExist(err), "the credentials are removed")
	require.NoError(t, creds.Remove(), "twice is fine")
}

func TestEnvOnly(t *testing.T) {
	env := []string{
		"NATS_MAGIC_DOMAINS=nats.example.test, other.example.test",
		"NATS_MAGIC_EMAIL=admin@example.com",
		"NATS_MAGIC_PROVIDER=digitalocean",
		"NATS_MAGIC_CA=https://ca.example/dir",
		"NATS_MAGIC_WEBSOCKET_DOMAINS=ws.example.test",
		"DO_TOKEN=tok",
	}
	c, err := Load(context.Background(), Input{Environ: env})
	require.NoError(t, err)
	values, err := c.Values(dnsprovider.New(), env, os.ReadFile)
	require.NoError(t, err)
	cfg, err := config.Load(config.Input{Base: values, Environ: env})
	require.NoError(t, err)
	require.Equal(t, []string{"nats.example.test", "other.example.test"}, cfg.Names)
	require.Equal(t, []string{"ws.example.test"}, cfg.Roles["websocket"].Names)
	require.Equal(t, "tok", cfg.DNS.Settings["auth_token"])
	opts, _, err := c.NATSOptions("")
	require.NoError(t, err)
	require.Nil(t, opts, "no nats_config: the command line's options are used")
}

func TestEnvErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		env  []string
		want string
	}{
		"unknown provider":  {[]string{"NATS_MAGIC_DOMAINS=a.example.test", "NATS_MAGIC_PROVIDER=gandi-typo"}, "gandi-typo"},
		"no provider":       {[]string{"NATS_MAGIC_DOMAINS=a.example.test"}, "NATS_MAGIC_PROVIDER"},
		"unknown variable":  {[]string{"NATS_MAGIC_DOMAIN=a.example.test"}, "NATS_MAGIC_DOMAIN"},
		"missing file":      {[]string{"NATS_MAGIC_FILE=/nonexistent.json"}, "NATS_MAGIC_FILE"},
		"seed without url":  {[]string{"NATS_MAGIC_SERVER=SUxyz"}, "NATS_MAGIC_URL"},
		"email, no domains": {[]string{"NATS_MAGIC_EMAIL=a@example.com"}, "NATS_MAGIC_DOMAINS"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(context.Background(), Input{Environ: tc.env})
			if err == nil {
				_, err = c.Values(dnsprovider.New(), tc.env, os.ReadFile)
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "SUxyz")
		})
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"domains": ["a"], "letsencrypt_emial": "x"}`), 0o600))
	_, err := Load(context.Background(), Input{Environ: []string{"NATS_MAGIC_FILE=" + bad}})
	require.ErrorContains(t, err, "letsencrypt_emial")
}

// configServer is natsmagic's config server: GET /{public key} answers 202
// with a nonce, POST /submit with the signed nonce answers the document.
type configServer struct {
	pub       string
	doc       string
	submitURL string // default "/submit"
	requests  atomic.Int32
	fail      atomic.Int32 // answer 503 this many times first
	urls      []string
}

func (s *configServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.urls = append(s.urls, r.URL.String())
	if s.fail.Load() > 0 {
		s.fail.Add(-1)
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/"+s.pub:
		submit := s.submitURL
		if submit == "" {
			submit = "/submit"
		}
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]string{"submit_url": submit, "nonce": "nonce-123"})
	case r.Method == http.MethodPost && r.URL.Path == "/submit":
		var rep struct{ Signature, Nonce string }
		_ = json.NewDecoder(r.Body).Decode(&rep)
		sig, err := base64.RawURLEncoding.DecodeString(rep.Signature)
		kp, _ := nkeys.FromPublicKey(s.pub)
		if err != nil || rep.Nonce != "nonce-123" || kp.Verify([]byte(rep.Nonce), sig) != nil {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(s.doc))
	default:
		http.NotFound(w, r)
	}
}

func newSeed(t *testing.T) (seed, pub string) {
	kp, err := nkeys.CreateServer()
	require.NoError(t, err)
	s, _ := kp.Seed()
	p, _ := kp.PublicKey()
	return string(s), p
}

func TestConfigServer(t *testing.T) {
	seed, pub := newSeed(t)
	cs := &configServer{pub: pub, doc: `{"domains": ["remote.example.test"], "letsencrypt_dns_provider": "route53"}`}
	srv := httptest.NewTLSServer(cs)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := &Fetcher{Client: srv.Client(), Backoff: time.Millisecond}

	t.Run("good seed", func(t *testing.T) {
		c, err := Load(ctx, Input{Fetcher: f, Environ: []string{"NATS_MAGIC_URL=" + srv.URL, "NATS_MAGIC_SERVER=" + seed}})
		require.NoError(t, err)
		require.Equal(t, []string{"remote.example.test"}, c.Fields["domains"].Value)
		for _, u := range cs.urls {
			require.NotContains(t, u, seed, "the seed is never in a URL")
		}
	})
	t.Run("retries a busy server", func(t *testing.T) {
		cs.fail.Store(2)
		_, err := f.Fetch(ctx, srv.URL, seed, false)
		require.NoError(t, err)
	})
	t.Run("wrong seed", func(t *testing.T) {
		other, _ := newSeed(t)
		cs2 := &configServer{pub: pub, doc: "{}"}
		srv2 := httptest.NewTLSServer(cs2)
		defer srv2.Close()
		// The wrong seed's public key is unknown: the server answers 404.
		_, err := (&Fetcher{Client: srv2.Client()}).Fetch(ctx, srv2.URL, other, false)
		require.Error(t, err)
		require.NotContains(t, err.Error(), other)
	})
	t.Run("bad signature", func(t *testing.T) {
		// A server that asks any key: the signature of another key fails.
		other, otherPub := newSeed(t)
		cs3 := &configServer{pub: otherPub, doc: "{}"}
		srv3 := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cs3.pub = pub // verify against pub while the client signed with other
			if r.Method == http.MethodGet {
				cs3.pub = otherPub
			}
			cs3.ServeHTTP(w, r)
		}))
		defer srv3.Close()
		_, err := (&Fetcher{Client: srv3.Client()}).Fetch(ctx, srv3.URL, other, false)
		require.ErrorContains(t, err, "refused the signed nonce")
		require.NotContains(t, err.Error(), other)
	})
	t.Run("http without insecure", func(t *testing.T) {
		plain := httptest.NewServer(cs)
		defer plain.Close()
		before := cs.requests.Load()
		_, err := f.Fetch(ctx, plain.URL, seed, false)
		require.ErrorContains(t, err, "NATS_MAGIC_INSECURE")
		require.Equal(t, before, cs.requests.Load(), "nothing was sent")
		_, err = (&Fetcher{}).Fetch(ctx, plain.URL, seed, true)
		require.NoError(t, err, "allowed when asked for")
	})
	t.Run("foreign submit_url", func(t *testing.T) {
		var stolen atomic.Int32
		thief := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { stolen.Add(1) }))
		defer thief.Close()
		cs.submitURL = thief.URL + "/submit"
		defer func() { cs.submitURL = "" }()
		_, err := f.Fetch(ctx, srv.URL, seed, false)
		require.ErrorContains(t, err, "submit_url")
		require.Zero(t, stolen.Load(), "the signed nonce went nowhere")
	})
	t.Run("invalid seed", func(t *testing.T) {
		_, err := f.Fetch(ctx, srv.URL, "SUNOTASEED", false)
		require.ErrorContains(t, err, "NATS_MAGIC_SERVER")
		require.NotContains(t, err.Error(), "SUNOTASEED")
	})
	t.Run("too large", func(t *testing.T) {
		big := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(strings.Repeat("x", 2048)))
		}))
		defer big.Close()
		_, err := (&Fetcher{Client: big.Client(), MaxBytes: 1024, Attempts: 1}).Fetch(ctx, big.URL, "", false)
		require.ErrorContains(t, err, "larger than 1024")
	})
	t.Run("no answer", func(t *testing.T) {
		dead := httptest.NewTLSServer(http.NotFoundHandler())
		url := dead.URL
		dead.Close()
		_, err := (&Fetcher{Attempts: 2, Backoff: time.Millisecond}).Fetch(ctx, url, seed, false)
		require.ErrorContains(t, err, "after 2 attempts")
		require.NotContains(t, err.Error(), seed)
	})
}
