package acme_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nats-autotls/autotls/acme"
	"github.com/nats-autotls/autotls/internal/acmetest"
	"github.com/nats-autotls/autotls/internal/dnstest"
)

func TestNewRejectsBadConfig(t *testing.T) {
	const secret = "c2VjcmV0LWhtYWMta2V5LXRoYXQtbXVzdC1ub3QtbGVhaw!!" // not base64url
	var p dnstest.Provider
	valid := func() acme.Config {
		return acme.Config{AgreeTOS: true, DNS01: &acme.DNS01{Provider: &p}}
	}
	tests := []struct {
		name   string
		mutate func(*acme.Config)
		field  string
	}{
		{name: "terms not agreed", mutate: func(c *acme.Config) { c.AgreeTOS = false }, field: "AgreeTOS"},
		{name: "no solver", mutate: func(c *acme.Config) { c.DNS01 = nil }, field: "DNS01"},
		{name: "two dns providers", mutate: func(c *acme.Config) { c.DNS01.Lego = legoStub{} }, field: "DNS01.Provider"},
		{name: "plain http directory", mutate: func(c *acme.Config) { c.DirectoryURL = "http://ca.example.test/dir" }, field: "DirectoryURL"},
		{name: "unparsable directory", mutate: func(c *acme.Config) { c.DirectoryURL = "://nope" }, field: "DirectoryURL"},
		{name: "unknown key type", mutate: func(c *acme.Config) { c.KeyType = "dsa1024" }, field: "KeyType"},
		{name: "eab without key id", mutate: func(c *acme.Config) { c.EAB = &acme.ExternalAccountBinding{HMACKey: "AAAA"} }, field: "EAB.KeyID"},
		{name: "eab with bad base64", mutate: func(c *acme.Config) { c.EAB = &acme.ExternalAccountBinding{KeyID: "kid", HMACKey: secret} }, field: "EAB.HMACKey"},
		{name: "negative lifetime", mutate: func(c *acme.Config) { c.Lifetime = -time.Hour }, field: "Lifetime"},
		{name: "bad http-01 address", mutate: func(c *acme.Config) { c.DNS01 = nil; c.HTTP01 = &acme.HTTP01{Addr: "80"} }, field: "HTTP01.Addr"},
		{name: "bad resolver", mutate: func(c *acme.Config) { c.DNS01.Resolvers = []string{"a b:53"} }, field: "DNS01.Resolvers[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid()
			tc.mutate(&cfg)
			iss, err := acme.New(cfg)
			require.Nil(t, iss)
			var cerr *acme.ConfigError
			require.ErrorAs(t, err, &cerr)
			require.Equal(t, tc.field, cerr.Field)
			require.NotEmpty(t, cerr.Fix)
			require.ErrorContains(t, err, "acme: config: "+tc.field)
			require.NotContains(t, err.Error(), secret, "secrets never appear in errors")
		})
	}
}

func TestNewDefaults(t *testing.T) {
	var p dnstest.Provider
	iss, err := acme.New(acme.Config{AgreeTOS: true, DNS01: &acme.DNS01{Provider: &p}})
	require.NoError(t, err)
	require.Equal(t, "acme-v02.api.letsencrypt.org-directory", iss.IssuerKey())
	require.Nil(t, iss.Roots())
	require.Empty(t, iss.AccountURL(), "New does no I/O")
}

func TestIssuerKey(t *testing.T) {
	var p dnstest.Provider
	tests := []struct{ url, want string }{
		{acme.LetsEncrypt, "acme-v02.api.letsencrypt.org-directory"},
		{acme.LetsEncryptStaging, "acme-staging-v02.api.letsencrypt.org-directory"},
		{"https://127.0.0.1:14000/dir", "127.0.0.1-14000-dir"},
		{"https://ca.example.test/acme/v2/directory/", "ca.example.test-acme-v2-directory"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			iss, err := acme.New(acme.Config{DirectoryURL: tc.url, AgreeTOS: true, DNS01: &acme.DNS01{Provider: &p}})
			require.NoError(t, err)
			require.Equal(t, tc.want, iss.IssuerKey())
		})
	}
}

func TestUnreachableCA(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	ca.SetDown(true)
	iss := newIssuer(t, baseConfig(t, ca))
	_, err := obtain(t, iss, uniqueName(t))
	var uerr *acme.UnreachableError
	require.ErrorAs(t, err, &uerr)
	require.Equal(t, ca.DirectoryURL, uerr.URL)

	ca.SetDown(false)
	mustObtain(t, iss, uniqueName(t))
}

func TestRenewalWindowUnsupported(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"newNonce":"x","newAccount":"x","newOrder":"x"}`))
	}))
	t.Cleanup(srv.Close)
	var p dnstest.Provider
	iss, err := acme.New(acme.Config{DirectoryURL: srv.URL + "/dir", AgreeTOS: true, HTTPClient: srv.Client(), DNS01: &acme.DNS01{Provider: &p}})
	require.NoError(t, err)
	ca := acmetest.New(t, acmetest.Options{})
	cert := mustObtain(t, newIssuer(t, baseConfig(t, ca)), uniqueName(t))

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	start, end, _, err := iss.RenewalWindow(ctx, cert.Leaf)
	require.ErrorIs(t, err, errors.ErrUnsupported)
	require.True(t, start.IsZero() && end.IsZero())
}

func TestRenewalWindowZeroWindowIsNoAdvice(t *testing.T) {
	ca := acmetest.New(t, acmetest.Options{})
	iss := newIssuer(t, baseConfig(t, ca))
	cert := mustObtain(t, iss, uniqueName(t))
	now := time.Now()
	ca.SetRenewalWindow(t, cert.Leaf, now.Add(time.Hour), now) // inverted

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	start, end, _, err := iss.RenewalWindow(ctx, cert.Leaf)
	require.NoError(t, err)
	require.True(t, start.IsZero() && end.IsZero(), "an inverted window means no advice")
}

// legoStub is a lego DNS provider that does nothing.
type legoStub struct{}

func (legoStub) Present(string, string, string) error { return nil }
func (legoStub) CleanUp(string, string, string) error { return nil }
